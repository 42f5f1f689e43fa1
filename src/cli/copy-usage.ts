// Apart from copy.ts, so that `ferry --help` prints it without loading the commands.
export const copyUsage = `usage: npx ferry copy <source-url> <target-url> [options]
       npm run copy -- <source-url> <target-url> [options]

Copies a whole database: every table of the source (SQLite, PostgreSQL, MySQL/MariaDB) in
foreign-key order, with its keys, indexes, foreign keys, checks, defaults and identity columns;
the target database is created when missing. What cannot be carried is reported by name.

options:
  --include a,b          only the tables matching these glob patterns (film*, *_log)
  --exclude a,b          leave out the tables matching these
  --identifier-case keep|lower    lower: fold every name to lower case (as pgloader does)
  --zero-dates refuse|null        MySQL 0000-00-00 dates: refused rows (default) or NULL
  --tinyint1 auto|boolean|integer MySQL tinyint(1): boolean where every value is 0/1 (auto)
  --spatial refuse|text           geometry columns on a target without them: refuse, or EWKT text
  --write-mode upsert|insert|truncate|recreate   (default upsert: create what is missing)
  --strategy streaming|chunked|parallel  --workers N  --batch-size N  --chunk-size N
  --validate count|checksum|none  (default count)
  --resume               continue the last run of this copy from its checkpoints
  --dry-run              connect, read both catalogs and print the whole plan; write nothing
  --name NAME            the name of checkpoints, logs and reports (default: copy-<digest of the URLs>)
  --log-level silent|error|warn|info|debug
  -h, --help`
