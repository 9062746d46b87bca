-- The scaled stack's PostgreSQL database as release 590a427, the last without migrations, left it: Rasa's
-- events table and every project table, filled by that release's own stores (as project.sqlite.sql), written
-- by `pg_dump --inserts --no-owner --no-privileges` (its psql-only and search_path lines removed). Frozen.
SET statement_timeout = 0;
SET lock_timeout = 0;
SET idle_in_transaction_session_timeout = 0;
SET client_encoding = 'UTF8';
SET standard_conforming_strings = on;
SET check_function_bodies = false;
SET xmloption = content;
SET client_min_messages = warning;
SET row_security = off;
SET default_tablespace = '';
SET default_table_access_method = heap;
CREATE TABLE public.admin_audit_log (
    id integer NOT NULL,
    at timestamp with time zone NOT NULL,
    actor character varying(64) NOT NULL,
    action character varying(32) NOT NULL,
    target character varying(128) NOT NULL,
    detail text NOT NULL
);
CREATE SEQUENCE public.admin_audit_log_id_seq
    AS integer
    START WITH 1
    INCREMENT BY 1
    NO MINVALUE
    NO MAXVALUE
    CACHE 1;
ALTER SEQUENCE public.admin_audit_log_id_seq OWNED BY public.admin_audit_log.id;
CREATE TABLE public.agents (
    username character varying(64) NOT NULL,
    display_name character varying(128) NOT NULL,
    role character varying(16) NOT NULL,
    password_hash character varying(256) NOT NULL,
    created_at timestamp with time zone NOT NULL,
    last_seen timestamp with time zone
);
CREATE TABLE public.channel_seen_messages (
    channel character varying(32) NOT NULL,
    message_id character varying(255) NOT NULL,
    seen_at timestamp with time zone NOT NULL
);
CREATE TABLE public.console_sessions (
    token_hash character varying(64) NOT NULL,
    username character varying(64) NOT NULL,
    csrf_token character varying(64) NOT NULL,
    created_at timestamp with time zone NOT NULL,
    expires_at timestamp with time zone NOT NULL
);
CREATE TABLE public.cskh_migrations (
    name character varying(64) NOT NULL,
    done_at double precision NOT NULL
);
CREATE TABLE public.events (
    id integer NOT NULL,
    sender_id character varying(255) NOT NULL,
    type_name character varying(255) NOT NULL,
    "timestamp" double precision,
    intent_name character varying(255),
    action_name character varying(255),
    data text
);
CREATE SEQUENCE public.events_id_seq
    AS integer
    START WITH 1
    INCREMENT BY 1
    NO MINVALUE
    NO MAXVALUE
    CACHE 1;
ALTER SEQUENCE public.events_id_seq OWNED BY public.events.id;
CREATE TABLE public.handoff_messages (
    id integer NOT NULL,
    handoff_id integer NOT NULL,
    role character varying(16) NOT NULL,
    author character varying(64),
    text text NOT NULL,
    sent_at double precision NOT NULL
);
CREATE SEQUENCE public.handoff_messages_id_seq
    AS integer
    START WITH 1
    INCREMENT BY 1
    NO MINVALUE
    NO MAXVALUE
    CACHE 1;
ALTER SEQUENCE public.handoff_messages_id_seq OWNED BY public.handoff_messages.id;
CREATE TABLE public.handoffs (
    id integer NOT NULL,
    channel character varying(32) NOT NULL,
    sender_id character varying(128) NOT NULL,
    status character varying(16) NOT NULL,
    reason character varying(64) NOT NULL,
    summary text NOT NULL,
    slots text NOT NULL,
    contact_phone character varying(32),
    created_at timestamp with time zone NOT NULL,
    told_position integer,
    claimed_by character varying(64),
    claimed_at timestamp with time zone,
    first_reply_at timestamp with time zone,
    closed_at timestamp with time zone,
    resolution text,
    ticket_code character varying(32),
    csat integer,
    mood text,
    resume_events text
);
CREATE SEQUENCE public.handoffs_id_seq
    AS integer
    START WITH 1
    INCREMENT BY 1
    NO MINVALUE
    NO MAXVALUE
    CACHE 1;
ALTER SEQUENCE public.handoffs_id_seq OWNED BY public.handoffs.id;
CREATE TABLE public.messenger_last_inbound (
    psid character varying(64) NOT NULL,
    received_at timestamp with time zone NOT NULL
);
CREATE TABLE public.ownership_attempts (
    id integer NOT NULL,
    order_number character varying(16) NOT NULL,
    conversation_id character varying(255) NOT NULL,
    attempted_at timestamp with time zone NOT NULL,
    succeeded boolean NOT NULL
);
CREATE SEQUENCE public.ownership_attempts_id_seq
    AS integer
    START WITH 1
    INCREMENT BY 1
    NO MINVALUE
    NO MAXVALUE
    CACHE 1;
ALTER SEQUENCE public.ownership_attempts_id_seq OWNED BY public.ownership_attempts.id;
CREATE TABLE public.ownership_orders (
    order_number character varying(16) NOT NULL,
    last_attempt_at timestamp with time zone NOT NULL
);
CREATE TABLE public.ownership_proofs (
    conversation_id character varying(255) NOT NULL,
    order_number character varying(16) NOT NULL,
    method character varying(8) NOT NULL,
    proven_at timestamp with time zone NOT NULL
);
CREATE TABLE public.ticket_counters (
    day character varying(8) NOT NULL,
    last integer NOT NULL
);
CREATE TABLE public.tickets (
    code character varying(20) NOT NULL,
    created_at timestamp with time zone NOT NULL,
    channel character varying(32) NOT NULL,
    sender_id character varying(128) NOT NULL,
    order_number character varying(16),
    issue_type character varying(32) NOT NULL,
    team character varying(32) NOT NULL,
    description text NOT NULL,
    contact_phone character varying(16),
    status character varying(16) NOT NULL,
    order_verified boolean DEFAULT false NOT NULL,
    handoff_reason character varying(64)
);
CREATE TABLE public.zalo_choices (
    user_id character varying(64) NOT NULL,
    buttons text NOT NULL,
    saved_at double precision NOT NULL
);
CREATE TABLE public.zalo_tokens (
    app_id character varying(64) NOT NULL,
    access_token text NOT NULL,
    refresh_token text NOT NULL,
    expires_at double precision,
    seed character varying(64) NOT NULL,
    lease_until double precision,
    updated_at double precision NOT NULL
);
ALTER TABLE ONLY public.admin_audit_log ALTER COLUMN id SET DEFAULT nextval('public.admin_audit_log_id_seq'::regclass);
ALTER TABLE ONLY public.events ALTER COLUMN id SET DEFAULT nextval('public.events_id_seq'::regclass);
ALTER TABLE ONLY public.handoff_messages ALTER COLUMN id SET DEFAULT nextval('public.handoff_messages_id_seq'::regclass);
ALTER TABLE ONLY public.handoffs ALTER COLUMN id SET DEFAULT nextval('public.handoffs_id_seq'::regclass);
ALTER TABLE ONLY public.ownership_attempts ALTER COLUMN id SET DEFAULT nextval('public.ownership_attempts_id_seq'::regclass);
INSERT INTO public.admin_audit_log VALUES (1, '2026-12-04 11:42:57.969452+00', 'admin', 'faq_edit', 'shipping_fee', '{"answer": "Phí giao 30k"}');
INSERT INTO public.agents VALUES ('lan', 'Chị Lan', 'agent', '$argon2id$v=19$m=19456,t=2,p=1$3z3ZqUCA7wlPJhdSJdOTUg$tQs44NiP818V42No40KrFSljtK6YqaWz5iDDnxLcHtc', '2026-12-04 11:42:57.9119+00', '2026-12-04 11:42:57.925607+00');
INSERT INTO public.channel_seen_messages VALUES ('zalo', 'msg-0001', '2026-12-04 11:42:57.985351+00');
INSERT INTO public.console_sessions VALUES ('f0507a8db99877ca968131c8f8786a9de98fe3cecaa567b6113464520f45de3d', 'lan', 'aCCLzmh7aSEJqNgguRfZXbATJl_qSVOEW-mjMevXUbU', '2026-12-04 11:42:57.921507+00', '2026-12-04 12:42:57.921507+00');
INSERT INTO public.cskh_migrations VALUES ('sender_namespaces:records', 1764800000);
INSERT INTO public.events VALUES (1, 'web:khach-1', 'user', 1764800000.5, 'greet', NULL, '{"text": "chào shop"}');
INSERT INTO public.handoff_messages VALUES (1, 1, 'user', NULL, 'cho mình gặp nhân viên', 1764800001);
INSERT INTO public.handoff_messages VALUES (2, 1, 'bot', NULL, 'Dạ, bạn chờ chút nhé.', 1764800002);
INSERT INTO public.handoff_messages VALUES (3, 1, 'agent', 'lan', 'Chào bạn, mình là Lan.', 1764800010);
INSERT INTO public.handoff_messages VALUES (4, 2, 'user', NULL, 'hàng bị vỡ', 1764800100);
INSERT INTO public.handoffs VALUES (1, 'rest', 'web:khach-1', 'closed', 'agent_request', 'Hỏi đơn DH1001', '{"order_number": "DH1001"}', '0912345678', '2026-12-04 11:42:57.934143+00', NULL, 'lan', '2026-12-04 11:42:57.945299+00', NULL, '2026-12-04 11:42:57.953513+00', 'Đã hẹn giao lại', NULL, NULL, '{"label": "upset", "score": 0.7, "cues": ["chậm quá"]}', NULL);
INSERT INTO public.handoffs VALUES (2, 'zalo', 'zalo:8812', 'waiting', 'complaint', 'Khiếu nại', '{}', NULL, '2026-12-04 11:42:57.957628+00', NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL);
INSERT INTO public.ownership_attempts VALUES (1, 'DH1001', 'web:khach-1', '2026-12-04 11:42:57.973346+00', true);
INSERT INTO public.ownership_orders VALUES ('DH1001', '2026-12-04 11:42:57.973346+00');
INSERT INTO public.ownership_proofs VALUES ('web:khach-1', 'DH1001', 'phone', '2026-12-04 11:42:57.973346+00');
INSERT INTO public.ticket_counters VALUES ('20261204', 2);
INSERT INTO public.tickets VALUES ('TK-20261204-0001', '2026-12-04 11:42:57.812289+00', 'rest', 'web:khach-1', 'DH1001', 'late_delivery', 'shipping', 'Đơn DH1001 giao chậm 5 ngày', '0912345678', 'open', true, NULL);
INSERT INTO public.tickets VALUES ('TK-20261204-0002', '2026-12-04 11:42:57.835148+00', 'zalo', 'zalo:8812', NULL, 'other', 'customer_care', 'Hỏi về hoá đơn đỏ', NULL, 'open', false, 'agent_request');
SELECT pg_catalog.setval('public.admin_audit_log_id_seq', 1, true);
SELECT pg_catalog.setval('public.events_id_seq', 1, true);
SELECT pg_catalog.setval('public.handoff_messages_id_seq', 4, true);
SELECT pg_catalog.setval('public.handoffs_id_seq', 2, true);
SELECT pg_catalog.setval('public.ownership_attempts_id_seq', 1, true);
ALTER TABLE ONLY public.admin_audit_log
    ADD CONSTRAINT admin_audit_log_pkey PRIMARY KEY (id);
ALTER TABLE ONLY public.agents
    ADD CONSTRAINT agents_pkey PRIMARY KEY (username);
ALTER TABLE ONLY public.channel_seen_messages
    ADD CONSTRAINT channel_seen_messages_pkey PRIMARY KEY (channel, message_id);
ALTER TABLE ONLY public.console_sessions
    ADD CONSTRAINT console_sessions_pkey PRIMARY KEY (token_hash);
ALTER TABLE ONLY public.cskh_migrations
    ADD CONSTRAINT cskh_migrations_pkey PRIMARY KEY (name);
ALTER TABLE ONLY public.events
    ADD CONSTRAINT events_pkey PRIMARY KEY (id);
ALTER TABLE ONLY public.handoff_messages
    ADD CONSTRAINT handoff_messages_pkey PRIMARY KEY (id);
ALTER TABLE ONLY public.handoffs
    ADD CONSTRAINT handoffs_pkey PRIMARY KEY (id);
ALTER TABLE ONLY public.messenger_last_inbound
    ADD CONSTRAINT messenger_last_inbound_pkey PRIMARY KEY (psid);
ALTER TABLE ONLY public.ownership_attempts
    ADD CONSTRAINT ownership_attempts_pkey PRIMARY KEY (id);
ALTER TABLE ONLY public.ownership_orders
    ADD CONSTRAINT ownership_orders_pkey PRIMARY KEY (order_number);
ALTER TABLE ONLY public.ownership_proofs
    ADD CONSTRAINT ownership_proofs_pkey PRIMARY KEY (conversation_id, order_number);
ALTER TABLE ONLY public.ticket_counters
    ADD CONSTRAINT ticket_counters_pkey PRIMARY KEY (day);
ALTER TABLE ONLY public.tickets
    ADD CONSTRAINT tickets_pkey PRIMARY KEY (code);
ALTER TABLE ONLY public.handoff_messages
    ADD CONSTRAINT uq_handoff_message UNIQUE (handoff_id, role, sent_at);
ALTER TABLE ONLY public.zalo_choices
    ADD CONSTRAINT zalo_choices_pkey PRIMARY KEY (user_id);
ALTER TABLE ONLY public.zalo_tokens
    ADD CONSTRAINT zalo_tokens_pkey PRIMARY KEY (app_id);
CREATE INDEX ix_admin_audit_log_at ON public.admin_audit_log USING btree (at);
CREATE INDEX ix_channel_seen_messages_seen_at ON public.channel_seen_messages USING btree (seen_at);
CREATE INDEX ix_events_sender_id ON public.events USING btree (sender_id);
CREATE INDEX ix_handoff_messages_handoff_id ON public.handoff_messages USING btree (handoff_id);
CREATE INDEX ix_handoffs_sender_id ON public.handoffs USING btree (sender_id);
CREATE INDEX ix_handoffs_status ON public.handoffs USING btree (status);
CREATE INDEX ix_ownership_attempts_order_number ON public.ownership_attempts USING btree (order_number);
ALTER TABLE ONLY public.console_sessions
    ADD CONSTRAINT console_sessions_username_fkey FOREIGN KEY (username) REFERENCES public.agents(username);
ALTER TABLE ONLY public.handoff_messages
    ADD CONSTRAINT handoff_messages_handoff_id_fkey FOREIGN KEY (handoff_id) REFERENCES public.handoffs(id);
