"""Numbered migrations; ``PRAGMA user_version`` says which have run.

Append new migrations, never edit an old one: a deployed database has
already run it. Encrypted columns end in ``_enc``; blind indexes in ``_idx``.
A migration listed in ``REBUILDS`` rebuilds a table (SQLite cannot alter a CHECK or
add a referencing NOT NULL column): it runs with foreign keys off and is checked
with ``PRAGMA foreign_key_check`` before it commits.
"""

from __future__ import annotations

MIGRATIONS: tuple[str, ...] = (
    # 1: the foundation
    """
    CREATE TABLE programmes (
        id INTEGER PRIMARY KEY,
        name TEXT NOT NULL UNIQUE,
        timezone TEXT NOT NULL DEFAULT 'UTC',
        language TEXT NOT NULL DEFAULT 'en',
        helpline TEXT NOT NULL DEFAULT '',
        emergency_number TEXT NOT NULL DEFAULT '112',
        sender_name TEXT NOT NULL DEFAULT 'Sam',
        settings TEXT NOT NULL DEFAULT '{}',
        created_at TEXT NOT NULL
    );
    CREATE TABLE staff (
        id INTEGER PRIMARY KEY,
        name TEXT NOT NULL UNIQUE,
        role TEXT NOT NULL CHECK (role IN ('wss', 'programme', 'admin')),
        language TEXT NOT NULL DEFAULT 'en',
        telegram_idx BLOB UNIQUE,
        telegram_enc BLOB,
        phone_idx BLOB UNIQUE,
        phone_enc BLOB,
        active INTEGER NOT NULL DEFAULT 1,
        created_at TEXT NOT NULL
    );
    CREATE TABLE participants (
        id TEXT PRIMARY KEY,
        pseudonym TEXT NOT NULL UNIQUE,
        programme_id INTEGER NOT NULL REFERENCES programmes(id),
        channel TEXT NOT NULL CHECK (channel IN ('console', 'telegram', 'sms')),
        address_idx BLOB UNIQUE,
        address_enc BLOB,
        language TEXT NOT NULL,
        timezone TEXT NOT NULL,
        windows_enc BLOB,
        safe_hash BLOB,
        code_hash BLOB,
        duress_hash BLOB,
        status TEXT NOT NULL DEFAULT 'active' CHECK (status IN
            ('pending', 'active', 'paused', 'opted_out', 'unreachable', 'withdrawn', 'erased')),
        status_reason TEXT,
        opted_in_again_at TEXT,
        enrolled_on TEXT NOT NULL,
        start_on TEXT,
        end_on TEXT,
        dropout_on TEXT,
        completed_on TEXT,
        created_at TEXT NOT NULL,
        updated_at TEXT NOT NULL
    );
    CREATE INDEX participants_programme ON participants(programme_id, status);
    CREATE TABLE timepoints (
        id INTEGER PRIMARY KEY,
        participant_id TEXT NOT NULL REFERENCES participants(id) ON DELETE CASCADE,
        timepoint TEXT NOT NULL CHECK (timepoint IN ('T0', 'T1', 'T2', 'T3', 'T4')),
        due_on TEXT,
        state TEXT NOT NULL DEFAULT 'scheduled' CHECK (state IN
            ('scheduled', 'held', 'sent', 'in_progress', 'snoozed', 'completed', 'missed',
             'cancelled', 'opted_out', 'unreachable', 'withdrawn', 'paused')),
        first_sent_at TEXT,
        reminders_sent INTEGER NOT NULL DEFAULT 0,
        snoozed_until TEXT,
        next_action_at TEXT,
        ended_at TEXT,
        wave_id TEXT,
        UNIQUE (participant_id, timepoint)
    );
    CREATE INDEX timepoints_due ON timepoints(state, next_action_at);
    CREATE TABLE sessions (
        id TEXT PRIMARY KEY,
        participant_id TEXT NOT NULL REFERENCES participants(id) ON DELETE CASCADE,
        timepoint TEXT NOT NULL,
        state_enc BLOB NOT NULL,
        phase TEXT NOT NULL,
        outcome TEXT,
        started_at TEXT NOT NULL,
        updated_at TEXT NOT NULL,
        ended_at TEXT,
        UNIQUE (participant_id, timepoint)
    );
    CREATE INDEX sessions_phase ON sessions(phase, updated_at);
    CREATE TABLE answers (
        participant_id TEXT NOT NULL REFERENCES participants(id) ON DELETE CASCADE,
        timepoint TEXT NOT NULL,
        item_id TEXT NOT NULL,
        value_enc BLOB NOT NULL,
        answered_at TEXT NOT NULL,
        PRIMARY KEY (participant_id, timepoint, item_id)
    );
    CREATE TABLE outbox (
        id INTEGER PRIMARY KEY,
        participant_id TEXT REFERENCES participants(id) ON DELETE CASCADE,
        staff_id INTEGER REFERENCES staff(id),
        session_id TEXT,
        lane TEXT NOT NULL,
        channel TEXT NOT NULL,
        kind TEXT NOT NULL,
        priority INTEGER NOT NULL,
        payload_enc BLOB NOT NULL,
        state TEXT NOT NULL DEFAULT 'pending' CHECK (state IN
            ('pending', 'sending', 'sent', 'failed', 'cancelled')),
        attempts INTEGER NOT NULL DEFAULT 0,
        not_before TEXT NOT NULL,
        dedupe_key TEXT UNIQUE,
        last_error TEXT,
        created_at TEXT NOT NULL,
        sent_at TEXT
    );
    CREATE INDEX outbox_due ON outbox(state, channel, priority, not_before, id);
    CREATE INDEX outbox_lane ON outbox(lane, state, id);
    CREATE TABLE transcript (
        id INTEGER PRIMARY KEY,
        participant_id TEXT NOT NULL REFERENCES participants(id) ON DELETE CASCADE,
        session_id TEXT,
        channel TEXT NOT NULL,
        direction TEXT NOT NULL CHECK (direction IN ('in', 'out')),
        ref_enc BLOB NOT NULL,
        at TEXT NOT NULL,
        delete_by TEXT NOT NULL,
        deleted_at TEXT
    );
    CREATE INDEX transcript_open ON transcript(deleted_at, delete_by);
    CREATE INDEX transcript_participant ON transcript(participant_id, deleted_at);
    CREATE TABLE inbound_seen (
        key BLOB PRIMARY KEY,
        seen_at TEXT NOT NULL
    );
    CREATE TABLE counters (
        name TEXT PRIMARY KEY,
        value INTEGER NOT NULL
    );
    CREATE TABLE escalations (
        id INTEGER PRIMARY KEY,
        code TEXT NOT NULL UNIQUE,
        participant_id TEXT REFERENCES participants(id) ON DELETE SET NULL,
        programme_id INTEGER REFERENCES programmes(id),
        session_id TEXT,
        timepoint TEXT,
        level TEXT NOT NULL CHECK (level IN ('URGENT', 'HIGH', 'ROUTINE')),
        reasons TEXT NOT NULL,
        state TEXT NOT NULL DEFAULT 'open' CHECK (state IN ('open', 'acknowledged', 'resolved')),
        raised_at TEXT NOT NULL,
        acknowledged_at TEXT,
        acknowledged_by TEXT,
        resolved_at TEXT,
        resolved_by TEXT
    );
    CREATE INDEX escalations_open ON escalations(state, level, raised_at);
    CREATE TABLE escalation_notifications (
        id INTEGER PRIMARY KEY,
        escalation_id INTEGER NOT NULL REFERENCES escalations(id) ON DELETE CASCADE,
        route TEXT NOT NULL,
        staff_id INTEGER REFERENCES staff(id),
        attempt INTEGER NOT NULL DEFAULT 1,
        due_at TEXT NOT NULL,
        state TEXT NOT NULL DEFAULT 'pending',
        sent_at TEXT,
        last_error TEXT
    );
    CREATE TABLE enrol_tokens (
        token_idx BLOB PRIMARY KEY,
        participant_id TEXT NOT NULL REFERENCES participants(id) ON DELETE CASCADE,
        expires_at TEXT NOT NULL,
        used_at TEXT
    );
    CREATE TABLE audit_log (
        id INTEGER PRIMARY KEY,
        at TEXT NOT NULL,
        actor TEXT NOT NULL,
        action TEXT NOT NULL,
        subject TEXT,
        detail TEXT
    );
    CREATE INDEX audit_subject ON audit_log(subject, at);
    """,
    # 2: escalation routes, notification bookkeeping, sealed staff notes
    """
    ALTER TABLE escalation_notifications ADD COLUMN outbox_id INTEGER;
    CREATE UNIQUE INDEX escalation_notifications_once
        ON escalation_notifications(escalation_id, staff_id, route, attempt);
    CREATE INDEX escalation_notifications_due ON escalation_notifications(state, due_at);
    CREATE INDEX escalations_participant ON escalations(participant_id);
    CREATE TABLE escalation_routes (
        programme_id INTEGER NOT NULL REFERENCES programmes(id) ON DELETE CASCADE,
        staff_id INTEGER NOT NULL REFERENCES staff(id),
        role TEXT NOT NULL CHECK (role IN ('on_call', 'backup')),
        position INTEGER NOT NULL,
        PRIMARY KEY (programme_id, role, staff_id)
    );
    CREATE TABLE escalation_notes (
        id INTEGER PRIMARY KEY,
        escalation_id INTEGER NOT NULL REFERENCES escalations(id) ON DELETE CASCADE,
        at TEXT NOT NULL,
        author TEXT NOT NULL,
        note_enc BLOB NOT NULL
    );
    """,
    # 3: her data, her rules (issue 8): consent, research ids, anonymous research rows,
    # key ids of secret-word digests, retention bookkeeping.
    """
    CREATE TABLE consents (
        participant_id TEXT PRIMARY KEY REFERENCES participants(id) ON DELETE CASCADE,
        consent_version TEXT NOT NULL,
        consented_on TEXT NOT NULL,
        recorded_by TEXT NOT NULL,
        recorded_at TEXT NOT NULL
    );
    ALTER TABLE participants ADD COLUMN research_enc BLOB;
    ALTER TABLE participants ADD COLUMN safe_kid TEXT;
    ALTER TABLE participants ADD COLUMN code_kid TEXT;
    ALTER TABLE participants ADD COLUMN duress_kid TEXT;
    ALTER TABLE participants ADD COLUMN withdrawn_at TEXT;
    ALTER TABLE participants ADD COLUMN contact_deleted_at TEXT;
    ALTER TABLE participants ADD COLUMN erased_at TEXT;
    ALTER TABLE counters ADD COLUMN updated_at TEXT;
    CREATE TABLE research_timepoints (
        research_id TEXT NOT NULL,
        programme_id INTEGER NOT NULL REFERENCES programmes(id),
        timepoint TEXT NOT NULL,
        state TEXT NOT NULL,
        invited INTEGER NOT NULL DEFAULT 0,
        week TEXT,
        PRIMARY KEY (research_id, timepoint)
    );
    CREATE TABLE research_answers (
        research_id TEXT NOT NULL,
        timepoint TEXT NOT NULL,
        item_id TEXT NOT NULL,
        value_enc BLOB NOT NULL,
        PRIMARY KEY (research_id, timepoint, item_id)
    );
    """,
    # 4: Telegram: throttle repeated bad /start tokens per chat (blind-indexed key only)
    """
    CREATE TABLE throttle (
        key BLOB PRIMARY KEY,
        count INTEGER NOT NULL,
        since TEXT NOT NULL
    );
    """,
    # 5: scheduling and waves (issue 5)
    """
    ALTER TABLE timepoints ADD COLUMN openers_sent INTEGER NOT NULL DEFAULT 0;
    ALTER TABLE timepoints ADD COLUMN last_sent_at TEXT;
    ALTER TABLE timepoints ADD COLUMN send_now_at TEXT;
    CREATE INDEX timepoints_wave ON timepoints(wave_id, state);
    CREATE INDEX timepoints_due_on ON timepoints(due_on, state);
    CREATE TABLE wave_holds (
        wave_id TEXT PRIMARY KEY,
        held_at TEXT NOT NULL,
        held_by TEXT NOT NULL
    );
    ALTER TABLE outbox ADD COLUMN not_after TEXT;
    """,
    # 6: look a transcript reference up by provider id (SMS status callbacks -> provider DELETE)
    """
    ALTER TABLE transcript ADD COLUMN ref_idx BLOB;
    CREATE INDEX transcript_ref ON transcript(ref_idx);
    """,
    # 7: staff dashboard (issue 10): login credentials and server-side sessions (hashes only)
    """
    CREATE TABLE staff_logins (
        staff_id INTEGER PRIMARY KEY REFERENCES staff(id),
        password_hash TEXT NOT NULL,
        totp_enc BLOB,
        totp_confirmed INTEGER NOT NULL DEFAULT 0,
        failures INTEGER NOT NULL DEFAULT 0,
        locked_until TEXT
    );
    CREATE TABLE web_sessions (
        id_hash BLOB PRIMARY KEY,
        staff_id INTEGER NOT NULL REFERENCES staff(id),
        created_at TEXT NOT NULL,
        last_seen TEXT NOT NULL,
        csrf TEXT NOT NULL,
        stage TEXT NOT NULL CHECK (stage IN ('totp', 'totp_setup', 'full'))
    );
    CREATE INDEX web_sessions_staff ON web_sessions(staff_id);
    """,
    # 8: second-factor failures counted apart from the password's; the last accepted TOTP step
    """
    ALTER TABLE staff_logins ADD COLUMN totp_failures INTEGER NOT NULL DEFAULT 0;
    ALTER TABLE staff_logins ADD COLUMN totp_last_step INTEGER;
    """,
    # 9: a backup without the key must not show that a duress word was used: escalation
    # reasons are sealed (reasons_enc; the clear column is emptied once sealed, see
    # bot.store.escalations.seal_clear_reasons) and a session's outcome lives only in
    # its sealed state.
    """
    ALTER TABLE escalations ADD COLUMN reasons_enc BLOB;
    UPDATE sessions SET outcome = NULL;
    """,
    # 10: organisations (issue 18): a programme belongs to exactly one, staff to one or
    # more; every existing programme and staff member lands in 'default'. Roles gain
    # 'operator' (runs the installation) and 'network' (pooled report only).
    """
    CREATE TABLE organisations (
        id INTEGER PRIMARY KEY,
        name TEXT NOT NULL UNIQUE,
        language TEXT NOT NULL DEFAULT 'en',
        created_at TEXT NOT NULL
    );
    INSERT INTO organisations (id, name, language, created_at)
        VALUES (1, 'default', 'en', strftime('%Y-%m-%dT%H:%M:%S.000000Z', 'now'));
    CREATE TABLE programmes_new (
        id INTEGER PRIMARY KEY,
        name TEXT NOT NULL UNIQUE,
        organisation_id INTEGER NOT NULL REFERENCES organisations(id),
        timezone TEXT NOT NULL DEFAULT 'UTC',
        language TEXT NOT NULL DEFAULT 'en',
        helpline TEXT NOT NULL DEFAULT '',
        emergency_number TEXT NOT NULL DEFAULT '112',
        sender_name TEXT NOT NULL DEFAULT 'Sam',
        settings TEXT NOT NULL DEFAULT '{}',
        created_at TEXT NOT NULL
    );
    INSERT INTO programmes_new (id, name, organisation_id, timezone, language, helpline,
        emergency_number, sender_name, settings, created_at)
        SELECT id, name, 1, timezone, language, helpline, emergency_number, sender_name,
            settings, created_at FROM programmes;
    DROP TABLE programmes;
    ALTER TABLE programmes_new RENAME TO programmes;
    CREATE INDEX programmes_organisation ON programmes(organisation_id);
    CREATE TABLE staff_new (
        id INTEGER PRIMARY KEY,
        name TEXT NOT NULL UNIQUE,
        role TEXT NOT NULL CHECK (role IN ('wss', 'programme', 'admin', 'operator', 'network')),
        language TEXT NOT NULL DEFAULT 'en',
        telegram_idx BLOB UNIQUE,
        telegram_enc BLOB,
        phone_idx BLOB UNIQUE,
        phone_enc BLOB,
        active INTEGER NOT NULL DEFAULT 1,
        created_at TEXT NOT NULL
    );
    INSERT INTO staff_new SELECT id, name, role, language, telegram_idx, telegram_enc,
        phone_idx, phone_enc, active, created_at FROM staff;
    DROP TABLE staff;
    ALTER TABLE staff_new RENAME TO staff;
    CREATE TABLE staff_organisations (
        staff_id INTEGER NOT NULL REFERENCES staff(id) ON DELETE CASCADE,
        organisation_id INTEGER NOT NULL REFERENCES organisations(id),
        PRIMARY KEY (staff_id, organisation_id)
    );
    CREATE INDEX staff_organisations_organisation ON staff_organisations(organisation_id);
    INSERT INTO staff_organisations (staff_id, organisation_id) SELECT id, 1 FROM staff;
    """,
    # 11: consent reaffirmed at every timepoint (issue 20): her answer to "is it still OK to
    # ask?" (yes / not_this_time / stop), the consent version it was given under and when;
    # "not this time" ends the timepoint as 'declined'. Kept through anonymisation.
    """
    CREATE TABLE timepoints_new (
        id INTEGER PRIMARY KEY,
        participant_id TEXT NOT NULL REFERENCES participants(id) ON DELETE CASCADE,
        timepoint TEXT NOT NULL CHECK (timepoint IN ('T0', 'T1', 'T2', 'T3', 'T4')),
        due_on TEXT,
        state TEXT NOT NULL DEFAULT 'scheduled' CHECK (state IN
            ('scheduled', 'held', 'sent', 'in_progress', 'snoozed', 'declined', 'completed',
             'missed', 'cancelled', 'opted_out', 'unreachable', 'withdrawn', 'paused')),
        first_sent_at TEXT,
        reminders_sent INTEGER NOT NULL DEFAULT 0,
        snoozed_until TEXT,
        next_action_at TEXT,
        ended_at TEXT,
        wave_id TEXT,
        openers_sent INTEGER NOT NULL DEFAULT 0,
        last_sent_at TEXT,
        send_now_at TEXT,
        consent_answer TEXT CHECK (consent_answer IN ('yes', 'not_this_time', 'stop')),
        consent_version TEXT,
        consent_at TEXT,
        UNIQUE (participant_id, timepoint)
    );
    INSERT INTO timepoints_new (id, participant_id, timepoint, due_on, state, first_sent_at,
        reminders_sent, snoozed_until, next_action_at, ended_at, wave_id, openers_sent,
        last_sent_at, send_now_at)
        SELECT id, participant_id, timepoint, due_on, state, first_sent_at, reminders_sent,
            snoozed_until, next_action_at, ended_at, wave_id, openers_sent, last_sent_at,
            send_now_at FROM timepoints;
    DROP TABLE timepoints;
    ALTER TABLE timepoints_new RENAME TO timepoints;
    CREATE INDEX timepoints_due ON timepoints(state, next_action_at);
    CREATE INDEX timepoints_wave ON timepoints(wave_id, state);
    CREATE INDEX timepoints_due_on ON timepoints(due_on, state);
    ALTER TABLE research_timepoints ADD COLUMN consent_answer TEXT;
    ALTER TABLE research_timepoints ADD COLUMN consent_version TEXT;
    """,
)

#: Migrations (1-based numbers) that rebuild a table: run with foreign keys off.
REBUILDS: frozenset[int] = frozenset({10, 11})
