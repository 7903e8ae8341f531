/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * The journal's on-disk format: the one contract between the writer
 * (journal_write.c, journal_encode.c), the reader (journal_read.c), the
 * shippers and jq. Both sides include this file; a change here changes the
 * format version.
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
 *     "pid", "start" (ISO 8601), "name" (comm),
 *     "executable", "args" (array), "command_line" (args joined by ' '),
 *     "parent": { "entity_id", "pid" }    the creator (never the reaper)
 *     "user": {"id": "<euid>"}, "real_user": {"id": "<ruid>"},
 *     "group": {"id": "<egid>"}, "real_group": {"id": "<rgid>"},
 *     "end", "exit_code"                  only on "exit"
 *   }
 *   "lineagefs": {
 *     "v", "start_ticks", "instance" (1, or N of a "<pid>-<start>.N" name),
 *     "flags": ["kthread", "cmdline_missed", "cmdline_truncated", "fork_seen",
 *               "from_scan", "start_estimated", ...],
 *     "exit": { "kind": "code"|"signal"|"unknown", "status": raw wait
 *               status, "signal": "SIGKILL", "core_dumped": true },
 *     "cmdline_b64":   the exact cmdline bytes, base64, present only when
 *                      args joined by NUL plus one final NUL would not give
 *                      them back: bytes that are not valid UTF-8 (then
 *                      args/command_line hold invalid sequences as U+FFFD),
 *                      or no final NUL (a setproctitle()); args is the
 *                      cmdline split at NULs after dropping one final NUL
 *     "execs", "threads": exec count and live threads other than the
 *                      leader (found and checkpoint lines; execs on exec)
 *     "comm_b64", "exe_b64": likewise for comm and executable
 *   }
 *
 * A line carries the record's identity and what the action changed, not
 * the whole record, except "found" and "checkpoint", which carry everything
 * known. "fork" carries the child's creator and the image it runs until it
 * execs (its creator's). Process lines but "forget" also carry
 * process.name. Fields added later (history, context, hashes) go under
 * "process" where ECS has a name for them, else under "lineagefs", and
 * readers ignore names they do not know.
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
 * never produces one (it cuts the middle of a huge cmdline, keeping both
 * ends, and sets "cmdline_truncated"). */
#define JOURNAL_LINE_MAX (8 * 1024 * 1024)

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
#define JOURNAL_ACTION_GAP         "gap" /* event.kind "pipeline_error": lineagefs.lost_lines */
