-- The project database (var/cskh.db) as release 590a427, the last without migrations, left it: made by
-- that release's own stores (tickets, hand-offs with transcripts, an agent and her session, the audit log,
-- an ownership proof, a seen message id) and written by `sqlite3 cskh.db .dump`. Frozen: never regenerate.
PRAGMA foreign_keys=OFF;
BEGIN TRANSACTION;
CREATE TABLE tickets (
	code VARCHAR(20) NOT NULL, 
	created_at DATETIME NOT NULL, 
	channel VARCHAR(32) NOT NULL, 
	sender_id VARCHAR(128) NOT NULL, 
	order_number VARCHAR(16), 
	issue_type VARCHAR(32) NOT NULL, 
	team VARCHAR(32) NOT NULL, 
	description TEXT NOT NULL, 
	contact_phone VARCHAR(16), 
	status VARCHAR(16) NOT NULL, 
	order_verified BOOLEAN DEFAULT (0) NOT NULL, 
	handoff_reason VARCHAR(64), 
	PRIMARY KEY (code)
);
INSERT INTO tickets VALUES('TK-20261204-0001','2026-12-04 18:42:52.268326','rest','web:khach-1','DH1001','late_delivery','shipping','Đơn DH1001 giao chậm 5 ngày','0912345678','open',1,NULL);
INSERT INTO tickets VALUES('TK-20261204-0002','2026-12-04 18:42:52.317566','zalo','zalo:8812',NULL,'other','customer_care','Hỏi về hoá đơn đỏ',NULL,'open',0,'agent_request');
CREATE TABLE ticket_counters (
	day VARCHAR(8) NOT NULL, 
	last INTEGER NOT NULL, 
	PRIMARY KEY (day)
);
INSERT INTO ticket_counters VALUES('20261204',2);
CREATE TABLE ownership_attempts (
	id INTEGER NOT NULL, 
	order_number VARCHAR(16) NOT NULL, 
	conversation_id VARCHAR(255) NOT NULL, 
	attempted_at DATETIME NOT NULL, 
	succeeded BOOLEAN NOT NULL, 
	PRIMARY KEY (id)
);
INSERT INTO ownership_attempts VALUES(1,'DH1001','web:khach-1','2026-12-04 11:42:52.681448',1);
CREATE TABLE ownership_orders (
	order_number VARCHAR(16) NOT NULL, 
	last_attempt_at DATETIME NOT NULL, 
	PRIMARY KEY (order_number)
);
INSERT INTO ownership_orders VALUES('DH1001','2026-12-04 11:42:52.681448');
CREATE TABLE ownership_proofs (
	conversation_id VARCHAR(255) NOT NULL, 
	order_number VARCHAR(16) NOT NULL, 
	method VARCHAR(8) NOT NULL, 
	proven_at DATETIME NOT NULL, 
	PRIMARY KEY (conversation_id, order_number)
);
INSERT INTO ownership_proofs VALUES('web:khach-1','DH1001','phone','2026-12-04 11:42:52.681448');
CREATE TABLE handoffs (
	id INTEGER NOT NULL, 
	channel VARCHAR(32) NOT NULL, 
	sender_id VARCHAR(128) NOT NULL, 
	status VARCHAR(16) NOT NULL, 
	reason VARCHAR(64) NOT NULL, 
	summary TEXT NOT NULL, 
	slots TEXT NOT NULL, 
	contact_phone VARCHAR(32), 
	created_at DATETIME NOT NULL, 
	told_position INTEGER, 
	claimed_by VARCHAR(64), 
	claimed_at DATETIME, 
	first_reply_at DATETIME, 
	closed_at DATETIME, 
	resolution TEXT, 
	ticket_code VARCHAR(32), 
	csat INTEGER, 
	mood TEXT, 
	resume_events TEXT, 
	PRIMARY KEY (id)
);
INSERT INTO handoffs VALUES(1,'rest','web:khach-1','closed','agent_request','Hỏi đơn DH1001','{"order_number": "DH1001"}','0912345678','2026-12-04 11:42:52.495390',NULL,'lan','2026-12-04 11:42:52.562863',NULL,'2026-12-04 11:42:52.613874','Đã hẹn giao lại',NULL,NULL,'{"label": "upset", "score": 0.7, "cues": ["chậm quá"]}',NULL);
INSERT INTO handoffs VALUES(2,'zalo','zalo:8812','waiting','complaint','Khiếu nại','{}',NULL,'2026-12-04 11:42:52.634448',NULL,NULL,NULL,NULL,NULL,NULL,NULL,NULL,NULL,NULL);
CREATE TABLE agents (
	username VARCHAR(64) NOT NULL, 
	display_name VARCHAR(128) NOT NULL, 
	role VARCHAR(16) NOT NULL, 
	password_hash VARCHAR(256) NOT NULL, 
	created_at DATETIME NOT NULL, 
	last_seen DATETIME, 
	PRIMARY KEY (username)
);
INSERT INTO agents VALUES('lan','Chị Lan','agent','$argon2id$v=19$m=19456,t=2,p=1$KG/BZ5Ipt0M7ub72A5ykFg$bunvBKfXy0VbFxsRsbPutoni10hr0n6hxujUparEPOo','2026-12-04 11:42:52.429107','2026-12-04 11:42:52.473836');
CREATE TABLE admin_audit_log (
	id INTEGER NOT NULL, 
	at DATETIME NOT NULL, 
	actor VARCHAR(64) NOT NULL, 
	action VARCHAR(32) NOT NULL, 
	target VARCHAR(128) NOT NULL, 
	detail TEXT NOT NULL, 
	PRIMARY KEY (id)
);
INSERT INTO admin_audit_log VALUES(1,'2026-12-04 11:42:52.666186','admin','faq_edit','shipping_fee','{"answer": "Phí giao 30k"}');
CREATE TABLE channel_seen_messages (
	channel VARCHAR(32) NOT NULL, 
	message_id VARCHAR(255) NOT NULL, 
	seen_at DATETIME NOT NULL, 
	PRIMARY KEY (channel, message_id)
);
INSERT INTO channel_seen_messages VALUES('zalo','msg-0001','2026-12-04 11:42:52.709488');
CREATE TABLE messenger_last_inbound (
	psid VARCHAR(64) NOT NULL, 
	received_at DATETIME NOT NULL, 
	PRIMARY KEY (psid)
);
CREATE TABLE zalo_choices (
	user_id VARCHAR(64) NOT NULL, 
	buttons TEXT NOT NULL, 
	saved_at FLOAT NOT NULL, 
	PRIMARY KEY (user_id)
);
CREATE TABLE zalo_tokens (
	app_id VARCHAR(64) NOT NULL, 
	access_token TEXT NOT NULL, 
	refresh_token TEXT NOT NULL, 
	expires_at FLOAT, 
	seed VARCHAR(64) NOT NULL, 
	lease_until FLOAT, 
	updated_at FLOAT NOT NULL, 
	PRIMARY KEY (app_id)
);
CREATE TABLE cskh_migrations (
	name VARCHAR(64) NOT NULL, 
	done_at FLOAT NOT NULL, 
	PRIMARY KEY (name)
);
INSERT INTO cskh_migrations VALUES('sender_namespaces:records',1764800000.0);
CREATE TABLE handoff_messages (
	id INTEGER NOT NULL, 
	handoff_id INTEGER NOT NULL, 
	role VARCHAR(16) NOT NULL, 
	author VARCHAR(64), 
	text TEXT NOT NULL, 
	sent_at FLOAT NOT NULL, 
	PRIMARY KEY (id), 
	CONSTRAINT uq_handoff_message UNIQUE (handoff_id, role, sent_at), 
	FOREIGN KEY(handoff_id) REFERENCES handoffs (id)
);
INSERT INTO handoff_messages VALUES(1,1,'user',NULL,'cho mình gặp nhân viên',1764800001.0);
INSERT INTO handoff_messages VALUES(2,1,'bot',NULL,'Dạ, bạn chờ chút nhé.',1764800002.0);
INSERT INTO handoff_messages VALUES(3,1,'agent','lan','Chào bạn, mình là Lan.',1764800010.0);
INSERT INTO handoff_messages VALUES(4,2,'user',NULL,'hàng bị vỡ',1764800100.0);
CREATE TABLE console_sessions (
	token_hash VARCHAR(64) NOT NULL, 
	username VARCHAR(64) NOT NULL, 
	csrf_token VARCHAR(64) NOT NULL, 
	created_at DATETIME NOT NULL, 
	expires_at DATETIME NOT NULL, 
	PRIMARY KEY (token_hash), 
	FOREIGN KEY(username) REFERENCES agents (username)
);
INSERT INTO console_sessions VALUES('850a901ee2f100d64bc28871e76f9e99272706f35a03eac73d2f8c31d13e69ce','lan','KaMEqpQKrURjiYZM5RXAk9aMvF_TdYZFWiMuaTZccV0','2026-12-04 11:42:52.449977','2026-12-04 12:42:52.449977');
CREATE INDEX ix_ownership_attempts_order_number ON ownership_attempts (order_number);
CREATE INDEX ix_handoffs_status ON handoffs (status);
CREATE INDEX ix_handoffs_sender_id ON handoffs (sender_id);
CREATE INDEX ix_admin_audit_log_at ON admin_audit_log (at);
CREATE INDEX ix_channel_seen_messages_seen_at ON channel_seen_messages (seen_at);
CREATE INDEX ix_handoff_messages_handoff_id ON handoff_messages (handoff_id);
COMMIT;
