"""Full-text search over the stored messages: subject, sender, recipients (To, Cc) and body text.

The index is kept by triggers in the database, not by Django signals: messages are written by the poller's own
multi-row INSERT (spooler/services/sql/messages.py) and moved or deleted by bulk UPDATEs (webmail/organize.py),
which send no signals. Tombstones (box "deleted") are never in the index.

- SQLite: an external-content FTS5 table over webmail_message (rowid = the message's id; unicode61 tokenizer,
  diacritics folded), kept by AFTER INSERT / UPDATE / DELETE triggers.
- PostgreSQL: a weighted tsvector column webmail_message.search_vector (subject A, sender B, To and Cc C, text
  D), set by BEFORE INSERT / UPDATE triggers, under a GIN index. The 'simple' configuration: mail comes in every
  language, and a stemming one (english) would stem German or French words wrongly and drop stop words a user may
  look for ("The Who"); 'simple' only lowercases, the same on both databases. Text is split at every character
  that is not a letter or digit before it is parsed, so an address "person7@example.org" is the words person7,
  example, org (as SQLite's unicode61 splits it) and from:person7 finds it.

Newest first, a search with many matches walks the user's messages by date in the index message_search_by_date
(all boxes but "deleted", so the lists' (user, box, date) index does not give that order) and keeps those the
full-text index matches: a common word fills a page after a few rows instead of sorting every match. On SQLite
the index also holds the columns the operators test (box, seen, flagged, has_attachments), so no row is read
before it is known to be wanted (SQLite reads a row up to the column it needs; user_id and sort_at come after
the text).

Body text is indexed up to its first TEXT_CHARS characters (a PostgreSQL tsvector is at most 1 MB; a bigger one
would make the poller's INSERT fail). Both vendors' operations are here; each is a no-op on the other.

Beware, SQLite: a later migration that makes Django rebuild webmail_message (an AlterField, or an AddField of a
NOT NULL column, copies the table into a new one) drops these triggers and the message_search_by_date index with
the old table; it must create them again (tests/webmail/test_search.py checks they are in the test database).
This is why 0006_imap_writeback, which rebuilds the table, comes before this migration.
"""
from django.db import migrations

TEXT_CHARS = 100_000

# user_id is indexed too (as the word "42"): every MATCH starts `user_id : "42" AND`, so FTS5 itself narrows the
# matches to the user's, in C, before any row is read. Searches for words name the other columns.
SQLITE_COLUMNS = 'subject, sender, "to", cc, text, user_id'


def _sqlite_values(row: str) -> str:
    return (f'{row}.subject, {row}.sender, {row}."to", {row}.cc, substr({row}.text, 1, {TEXT_CHARS}), '
            f'{row}.user_id')


SQLITE_FORWARD = [
    f"""CREATE VIRTUAL TABLE webmail_message_fts USING fts5({SQLITE_COLUMNS}, content='webmail_message',
        content_rowid='id', tokenize='unicode61 remove_diacritics 2')""",
    # bm25 weights per column: a word in the subject counts most, the user_id column not at all.
    "INSERT INTO webmail_message_fts(webmail_message_fts, rank) VALUES ('rank', 'bm25(4.0, 3.0, 2.0, 2.0, 1.0, 0.0)')",
    f"""INSERT INTO webmail_message_fts(rowid, {SQLITE_COLUMNS})
        SELECT m.id, {_sqlite_values('m')} FROM webmail_message m WHERE m.box != 'deleted'""",
    f"""CREATE TRIGGER webmail_message_fts_insert AFTER INSERT ON webmail_message WHEN new.box != 'deleted' BEGIN
        INSERT INTO webmail_message_fts(rowid, {SQLITE_COLUMNS}) VALUES (new.id, {_sqlite_values('new')});
        END""",
    f"""CREATE TRIGGER webmail_message_fts_delete AFTER DELETE ON webmail_message WHEN old.box != 'deleted' BEGIN
        INSERT INTO webmail_message_fts(webmail_message_fts, rowid, {SQLITE_COLUMNS})
        VALUES ('delete', old.id, {_sqlite_values('old')});
        END""",
    # Only a change of an indexed column, or into or out of "deleted", touches the index (not a star or a move).
    f"""CREATE TRIGGER webmail_message_fts_update AFTER UPDATE OF {SQLITE_COLUMNS}, box ON webmail_message
        WHEN old.subject IS NOT new.subject OR old.sender IS NOT new.sender OR old."to" IS NOT new."to"
          OR old.cc IS NOT new.cc OR old.text IS NOT new.text OR old.user_id IS NOT new.user_id
          OR (old.box = 'deleted') IS NOT (new.box = 'deleted')
        BEGIN
        INSERT INTO webmail_message_fts(webmail_message_fts, rowid, {SQLITE_COLUMNS})
          SELECT 'delete', old.id, {_sqlite_values('old')} WHERE old.box != 'deleted';
        INSERT INTO webmail_message_fts(rowid, {SQLITE_COLUMNS})
          SELECT new.id, {_sqlite_values('new')} WHERE new.box != 'deleted';
        END""",
]
SEARCH_BY_DATE_SQLITE = ("CREATE INDEX message_search_by_date ON webmail_message "
                         "(user_id, sort_at DESC, id DESC, box, seen, flagged, has_attachments)")
SQLITE_FORWARD.append(SEARCH_BY_DATE_SQLITE)
SQLITE_REVERSE = [
    "DROP INDEX IF EXISTS message_search_by_date",
    "DROP TRIGGER IF EXISTS webmail_message_fts_update",
    "DROP TRIGGER IF EXISTS webmail_message_fts_delete",
    "DROP TRIGGER IF EXISTS webmail_message_fts_insert",
    "DROP TABLE IF EXISTS webmail_message_fts",
]


def _pg_words(expression: str) -> str:
    return f"to_tsvector('simple', regexp_replace({expression}, '[^[:alnum:]]+', ' ', 'g'))"


POSTGRESQL_FORWARD = [
    "ALTER TABLE webmail_message ADD COLUMN search_vector tsvector",
    f"""CREATE FUNCTION webmail_message_search_document(subject text, sender text, recipients text, body text)
        RETURNS tsvector LANGUAGE sql IMMUTABLE PARALLEL SAFE AS $$
        SELECT setweight({_pg_words("left(coalesce(subject, ''), 2000)")}, 'A')
            || setweight({_pg_words("left(coalesce(sender, ''), 2000)")}, 'B')
            || setweight({_pg_words("left(coalesce(recipients, ''), 20000)")}, 'C')
            || setweight({_pg_words(f"left(coalesce(body, ''), {TEXT_CHARS})")}, 'D')
        $$""",
    """CREATE FUNCTION webmail_message_search_trigger() RETURNS trigger LANGUAGE plpgsql AS $$
        BEGIN
          IF NEW.box = 'deleted' THEN
            NEW.search_vector := NULL;
          ELSE
            NEW.search_vector := webmail_message_search_document(
              NEW.subject, NEW.sender, concat_ws(' ', NEW."to", NEW.cc), NEW.text);
          END IF;
          RETURN NEW;
        END
        $$""",
    """CREATE TRIGGER webmail_message_search_insert BEFORE INSERT ON webmail_message
        FOR EACH ROW EXECUTE FUNCTION webmail_message_search_trigger()""",
    # Only a change of an indexed column, or into or out of "deleted", recomputes it (not a star or a move).
    """CREATE TRIGGER webmail_message_search_update BEFORE UPDATE OF subject, sender, "to", cc, text, box
        ON webmail_message FOR EACH ROW
        WHEN (OLD.subject IS DISTINCT FROM NEW.subject OR OLD.sender IS DISTINCT FROM NEW.sender
          OR OLD."to" IS DISTINCT FROM NEW."to" OR OLD.cc IS DISTINCT FROM NEW.cc OR OLD.text IS DISTINCT FROM NEW.text
          OR (OLD.box = 'deleted') IS DISTINCT FROM (NEW.box = 'deleted'))
        EXECUTE FUNCTION webmail_message_search_trigger()""",
    """UPDATE webmail_message SET search_vector = webmail_message_search_document(
        subject, sender, concat_ws(' ', "to", cc), text) WHERE box != 'deleted'""",
    "CREATE INDEX message_search ON webmail_message USING gin (search_vector)",
    "CREATE INDEX message_search_by_date ON webmail_message (user_id, sort_at DESC, id DESC)",
]
POSTGRESQL_REVERSE = [
    "DROP INDEX IF EXISTS message_search_by_date",
    "DROP INDEX IF EXISTS message_search",
    "DROP TRIGGER IF EXISTS webmail_message_search_update ON webmail_message",
    "DROP TRIGGER IF EXISTS webmail_message_search_insert ON webmail_message",
    "DROP FUNCTION IF EXISTS webmail_message_search_trigger()",
    "DROP FUNCTION IF EXISTS webmail_message_search_document(text, text, text, text)",
    "ALTER TABLE webmail_message DROP COLUMN IF EXISTS search_vector",
]


def _run(statements: dict):
    def run(apps, schema_editor):
        for sql in statements.get(schema_editor.connection.vendor, ()):
            schema_editor.execute(sql, params=None)
    return run


forward = _run({"sqlite": SQLITE_FORWARD, "postgresql": POSTGRESQL_FORWARD})
reverse = _run({"sqlite": SQLITE_REVERSE, "postgresql": POSTGRESQL_REVERSE})


class Migration(migrations.Migration):

    dependencies = [
        ("mailboxes", "0006_imap_writeback"),
    ]

    operations = [
        migrations.RunPython(forward, reverse),
    ]
