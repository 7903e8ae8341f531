/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * The journal's on-disk format: the one contract between the writer
 * (journal_write.c, journal_segment.c, journal_encode.c,
 * journal_encode_context.c), the reader (journal_read.c), the shippers and
 * jq. Both sides include this file; a change here changes the format
 * version.
 *
 * Directory: DIR/ holds segment files named "lineagefs-%010llu.jsonl", the
 * number increasing across rotations and restarts (a new daemon opens the
 * next number; segments are never appended to by a second daemon). Files are
 * created 0640; a DIR that others may write is refused. A shipper tails
 * DIR/lineagefs-*.jsonl.
 *
 * Lines: one JSON object per line, UTF-8, '\n'-terminated, no line longer
 * than JOURNAL_LINE_MAX. Field names are Elastic Common Schema where ECS
 * has them, else under "lineagefs". Unknown values are left out, never
 * written as placeholders. Every line has:
 *
 *   "@timestamp"         ISO 8601 UTC, nanoseconds: when the event happened
 *   "event": {
 *     "kind":            "event" | "state" (checkpoint) | "pipeline_error" (gap)
 *     "category":        ["process"]
 *     "type":            ["start"] | ["change"] | ["end"] | ["info"]
 *     "action":          see JOURNAL_ACTION_* below
 *     "sequence":        increasing per daemon run (gaps show lost lines)
 *   }
 *   "host": { "id": machine-id, "boot": { "id": boot-id } }
 *   "lineagefs": { "v": JOURNAL_FORMAT_VERSION, ... }
 *
 * Process lines (every action but "gap", "open") also have:
 *   "process": {
 *     "entity_id":       lineagefs_entity_id(): hex sha256 of
 *                        "machine-id/boot-id/pid/start_ticks/instance", first
 *                        32 hex digits; the same process always gets the same id
 *     "pid"              always
 *     "start"            ISO 8601: on the lines that start a record in a
 *                        reader's eyes (found, checkpoint, fork, an exec that
 *                        tells its fork)
 *     "name" (comm)      every process line but "forget"
 *     "executable", "args" (array), "command_line" (args joined by ' ')
 *                        with the image: found, checkpoint, exec, and a fork
 *                        whose image is not its creator's
 *     "parent": { "entity_id", "pid" }    the creator (never the reaper):
 *                        found, checkpoint, fork, an exec that tells its fork
 *     "user": {"id": "<euid>"}, "group": {"id": "<egid>"}
 *                        with the image, and on uid/gid lines;
 *     "real_user": {"id": "<ruid>"}, "real_group": {"id": "<rgid>"}
 *                        only when they differ from user/group
 *     "exit_code"        exit lines of a process that exited with a code
 *     "end"              checkpoints and found lines of an exited process;
 *                        on an "exit" line only when it is not @timestamp
 *                        (a reader takes @timestamp), on "exit_missed" when
 *                        known
 *   }
 *   "lineagefs": {
 *     "v", "start_ticks"  always
 *     "instance"         N of a "<pid>-<start>.N" name, left out for 1
 *     "image": "inherited"  a fork running its creator's image: executable,
 *                        args, command_line, cmdline_* and the ids are the
 *                        creator's at that line, not repeated
 *     "flags": ["kthread", "cmdline_missed", "cmdline_truncated", "fork_seen",
 *               "from_scan", "start_estimated"]: on found, checkpoint and
 *                        fork lines all the record's flags (left out: none),
 *                        "fork_seen" implied by a fork line and by an exec
 *                        line with process.parent; on a plain exec line the
 *                        image's flags (kthread, cmdline_*) only
 *     "exit": { "kind": "signal"|"unknown", "status": raw wait status,
 *               "signal": "SIGKILL", "core_dumped": true }: only what
 *                        process.exit_code cannot say (no exit_code: a signal
 *                        or an unknown end)
 *     "cmdline_b64":   the exact cmdline bytes, base64, present only when
 *                      args joined by NUL plus one final NUL would not give
 *                      them back: bytes that are not valid UTF-8 (then
 *                      args/command_line hold invalid sequences as U+FFFD),
 *                      no final NUL (a setproctitle()), or args_cut; args
 *                      is the cmdline split at NULs after dropping one
 *                      final NUL
 *     "args_cut": true  a command line over 512 KiB: args and command_line
 *                      show its first and last 256 KiB, cmdline_b64 all
 *                      of it (shippers get bounded fields, a reader every
 *                      byte)
 *     "cmdline_full_len", "cmdline_sha256": with the args, when the kept
 *                      bytes are not the whole command line: its length,
 *                      and its hex SHA-256 when known
 *     "creator_guess": {"check": "not_creator"|"uncertain", "count": N,
 *                      "candidates": [[pid, start_ticks, instance], ...]
 *                      (at most 8)}: with the image, when the parent the
 *                      kernel reported may not have made the process
 *                      (clone(CLONE_PARENT)); a line with the image and
 *                      without it clears it
 *     "execs", "threads": exec count and live threads other than the
 *                      leader (found and checkpoint lines; threads when > 0;
 *                      an exec line adds one exec)
 *     "comm_b64", "exe_b64": likewise for comm and executable
 *   }
 *
 * The forensic context (issue 9; tracker/context.h), on "found",
 * "checkpoint" and "exec" lines (an exec carries only the parts it
 * changed; a "fork" none: the child has its creator's):
 *   "process": { "working_directory", "env_vars": ["NAME=value", ...]
 *                (--env names only), "vpid" (pid inside its pid namespace,
 *                when not the pid), "hash": {"sha256"} (--hash-exe),
 *                "tty": {"char_device": {"major", "minor"}} (none: no
 *                terminal), "session_leader": {"pid"}, "group_leader": {"pid"} }
 *   "container": { "id", "runtime" }     parsed from the cgroup path; readers
 *                                        recompute it from lineagefs.cgroup
 *   "lineagefs": { "cgroup", "pid_ns", "login_uid", "session_id"
 *                  (4294967295: unset), "exec_time" (ISO 8601: the last
 *                  exec, found and checkpoint lines), "seen" (ISO 8601:
 *                  when the daemon first saw the record, its fork or the
 *                  scan that found it; checkpoint lines, and found lines
 *                  whose @timestamp is not that time: a found record's
 *                  history shows it), "working_directory_b64",
 *                  "cgroup_b64", "env_b64" (exact bytes, as cmdline_b64),
 *                  "history": [ {"@timestamp", "kind": "exec"|"found"|"comm"|
 *                  "uid"|"gid", "ids": [4 numbers: ruid, euid, rgid, egid
 *                  at an exec; old real, old effective, new real, new
 *                  effective for uid and gid], "executable", "args",
 *                  "cmdline_b64", "args_cut", "args_back",
 *                  "cmdline_missed", "cmdline_truncated", "name" (comm),
 *                  "name_b64", "executable_b64"} ... ]
 *                  (found and checkpoint lines: every entry the record
 *                  holds, oldest first, each argv whole as an exec line
 *                  has it: args with both ends of one over 512 KiB and
 *                  args_cut, every byte in cmdline_b64; "args_back": N
 *                  instead when the argv, over 1 KiB, is the one of the
 *                  entry N before in the record's history, so a long argv
 *                  run again and again is written once; what does not fit
 *                  in the line follows in "history" lines),
 *                  "history_dropped" (entries the record lost to the
 *                  daemon's history budget) }
 * A "history" line (event.kind "state", type ["info"]) follows a found or
 * checkpoint line whose history did not fit in it, at once, and carries
 * more of the same record's entries: process.entity_id and pid,
 * lineagefs.start_ticks, instance and "history" (oldest first). A line
 * holds at most JOURNAL_HISTORY_LINE_ENTRIES entries, and the writer
 * starts a "history" line once JOURNAL_HISTORY_LINE_BYTES of a line are
 * used, so a history of any length is written whole in lines of bounded
 * size. A reader adds them to the record its found or checkpoint line
 * made, and ignores one that does not follow such a line.
 * A reader applies an exec line's image over the record's and keeps the
 * one it replaced as a history entry, as uid, gid and comm lines add
 * theirs: a restored history equals the one the daemon showed.
 *
 * A line carries the record's identity and what the action changed, not
 * the whole record, except "found" and "checkpoint", which carry everything
 * known. The writer leaves a fork's line out when its child's exec line
 * follows within its batch: that exec line then carries process.parent and
 * process.start too (a short process: two lines, exec and exit). Fields
 * added later (history, context, hashes) go under "process" where ECS has
 * a name for them, else under "lineagefs", and readers ignore names they
 * do not know. Format 1 lines (every field on every line) read the same.
 *
 * Restore: lines are applied in segment order, then line order; a
 * checkpoint line replaces everything known of its entity_id; a "forget"
 * removes it. A checkpoint is copied while events flow; the writer skips
 * the queued lines whose change a checkpoint line already holds (never a
 * "forget"), so a checkpoint and the lines after it tell each change once.
 * An "exit_missed" line may come before the "found" line of a process a
 * rescan found already a zombie; "found" then carries its exit too.
 * Every segment opens with an "open" line and then one "checkpoint" line
 * per record the table holds, so deleting the oldest segments never loses
 * a retained process.
 */
#pragma once

#define JOURNAL_FORMAT_VERSION 2
#define JOURNAL_SEGMENT_PREFIX "lineagefs-"
#define JOURNAL_SEGMENT_SUFFIX ".jsonl"
/* A line longer than this is skipped and counted by the reader; the writer
 * never produces one (see JOURNAL_CMDLINE_MAX in journal_encode.h). */
#define JOURNAL_LINE_MAX (16 * 1024 * 1024)

/* event.action values. */
#define JOURNAL_ACTION_OPEN        "open"       /* first line of a segment: event.kind "state" */
#define JOURNAL_ACTION_CHECKPOINT  "checkpoint" /* a retained record, whole */
#define JOURNAL_ACTION_FOUND       "found"      /* bootstrap or rescan found it */
#define JOURNAL_ACTION_FORK        "fork"
#define JOURNAL_ACTION_EXEC        "exec"
#define JOURNAL_ACTION_COMM        "comm"
#define JOURNAL_ACTION_UID         "uid"
#define JOURNAL_ACTION_GID         "gid"
#define JOURNAL_ACTION_EXIT        "exit"
#define JOURNAL_ACTION_EXIT_MISSED "exit_missed" /* gone without an EXIT event */
#define JOURNAL_ACTION_FORGET      "forget"      /* dropped by the retention limit */
#define JOURNAL_ACTION_GAP         "gap"     /* event.kind "pipeline_error": lineagefs.lost_lines */
#define JOURNAL_ACTION_HISTORY     "history" /* more history of the found or checkpoint line before */

/* History entries in one line at most, and the bytes of a line past which
 * the rest of a history goes to the next "history" line: a line stays far
 * below JOURNAL_LINE_MAX and within what shippers take (Vector's default
 * max_line_bytes is 100 KiB) whatever a process did. */
#define JOURNAL_HISTORY_LINE_ENTRIES 1024
#define JOURNAL_HISTORY_LINE_BYTES   (64 * 1024)
