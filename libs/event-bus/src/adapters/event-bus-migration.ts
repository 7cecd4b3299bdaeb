// TypeORM migration creating the outbox and inbox tables in the service's schema (the
// DataSource's `schema` option). Services list it in their DataSource `migrations`.
// The schema itself must already exist (the service's own first migration creates it).
import type { MigrationInterface, QueryRunner } from 'typeorm';
import { INBOX_TABLE, OUTBOX_TABLE, qualified, quoteIdent, schemaOf } from './postgres-schema.js';

export class CreateEventBusTables1795478400000 implements MigrationInterface {
  readonly name = 'CreateEventBusTables1795478400000';

  async up(queryRunner: QueryRunner): Promise<void> {
    const schema = schemaOf(queryRunner.dataSource);
    const outbox = qualified(schema, OUTBOX_TABLE);
    const inbox = qualified(schema, INBOX_TABLE);
    // seq: insertion order for the relay (id is a random UUID; created_at ties within a transaction).
    await queryRunner.query(`
      CREATE TABLE ${outbox} (
        "id"           uuid        NOT NULL,
        "seq"          bigint      GENERATED ALWAYS AS IDENTITY,
        "topic"        text        NOT NULL,
        "key"          text        NOT NULL,
        "envelope"     bytea       NOT NULL,
        "created_at"   timestamptz NOT NULL DEFAULT clock_timestamp(),
        "published_at" timestamptz NULL,
        "attempts"     integer     NOT NULL DEFAULT 0,
        "last_error"   text        NULL,
        CONSTRAINT ${quoteIdent('outbox_pkey')} PRIMARY KEY ("id"),
        CONSTRAINT ${quoteIdent('outbox_seq_key')} UNIQUE ("seq"),
        CONSTRAINT ${quoteIdent('outbox_topic_not_empty')} CHECK ("topic" <> ''),
        CONSTRAINT ${quoteIdent('outbox_key_not_empty')} CHECK ("key" <> '')
      )`);
    await queryRunner.query(`CREATE INDEX ${quoteIdent('outbox_pending_idx')} ON ${outbox} ("seq") WHERE "published_at" IS NULL`);
    await queryRunner.query(`CREATE INDEX ${quoteIdent('outbox_pending_key_idx')} ON ${outbox} ("key", "seq") WHERE "published_at" IS NULL`);
    await queryRunner.query(`CREATE INDEX ${quoteIdent('outbox_published_at_idx')} ON ${outbox} ("published_at") WHERE "published_at" IS NOT NULL`);
    await queryRunner.query(`
      CREATE TABLE ${inbox} (
        "consumer_group" text        NOT NULL,
        "event_id"       text        NOT NULL,
        "handled_at"     timestamptz NOT NULL DEFAULT now(),
        CONSTRAINT ${quoteIdent('inbox_pkey')} PRIMARY KEY ("consumer_group", "event_id")
      )`);
  }

  async down(queryRunner: QueryRunner): Promise<void> {
    const schema = schemaOf(queryRunner.dataSource);
    await queryRunner.query(`DROP TABLE ${qualified(schema, INBOX_TABLE)}`);
    await queryRunner.query(`DROP TABLE ${qualified(schema, OUTBOX_TABLE)}`);
  }
}
