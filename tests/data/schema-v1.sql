-- A database as marketbox 0.1's first schema (version 1) left it, with
-- a user, for tests/test_store.c: an older database is upgraded in place.
CREATE TABLE users (  id INTEGER PRIMARY KEY,  msisdn TEXT NOT NULL UNIQUE,  name TEXT,  market TEXT,  language TEXT,  role TEXT NOT NULL DEFAULT 'user',  opt_out INTEGER NOT NULL DEFAULT 0,  created INTEGER NOT NULL,  updated INTEGER NOT NULL);
CREATE TABLE inbox (  id INTEGER PRIMARY KEY,  kannel_id TEXT NOT NULL UNIQUE,  channel TEXT NOT NULL,  sender TEXT NOT NULL,  receiver TEXT NOT NULL,  text TEXT NOT NULL,  coding INTEGER NOT NULL,  smsc_id TEXT,  meta_data TEXT,  received INTEGER NOT NULL,  state TEXT NOT NULL,  error TEXT);
CREATE TABLE outbox (  id INTEGER PRIMARY KEY,  inbox_id INTEGER REFERENCES inbox(id),  kind TEXT NOT NULL,  sender TEXT NOT NULL,  receiver TEXT NOT NULL,  text TEXT NOT NULL,  coding INTEGER NOT NULL,  concat_ref INTEGER,  part INTEGER NOT NULL DEFAULT 1,  parts INTEGER NOT NULL DEFAULT 1,  smsc_id TEXT,  meta_data TEXT,  state TEXT NOT NULL,  attempts INTEGER NOT NULL DEFAULT 0,  next_attempt INTEGER NOT NULL,  kannel_id TEXT UNIQUE,  created INTEGER NOT NULL,  sent INTEGER,  accepted INTEGER,  dlr_state TEXT,  dlr_time INTEGER,  foreign_id TEXT,  error TEXT);
CREATE INDEX outbox_due ON outbox(state, next_attempt);
CREATE INDEX outbox_receiver ON outbox(receiver, created);
CREATE TABLE schema_versions (  owner TEXT PRIMARY KEY,  version INTEGER NOT NULL);

INSERT INTO users(msisdn, name, created, updated)
    VALUES ('+254700000001', 'Wanjiru', 1, 1);
PRAGMA user_version = 1;
INSERT INTO inbox(id, kannel_id, channel, sender, receiver, text, coding,
    received, state)
    VALUES (7, '3f1c2a9e-0b6d-4c11-9a57-1d2e3f405162', 'box',
    '+254700000001', '777', 'REG Wanjiru', 0, 1700000000, 'done');
INSERT INTO outbox(id, inbox_id, kind, sender, receiver, text, coding,
    state, attempts, next_attempt, kannel_id, created, sent, accepted,
    dlr_state)
    VALUES (41, 7, 'reply', '777', '+254700000001', 'Welcome, Wanjiru', 0,
    'delivered', 1, 1700000000, 'a0b1c2d3-e4f5-4617-8899-aabbccddeeff',
    1700000000, 1700000001, 1700000001, 'delivered');
