// Approver devices (C-8.2.2.5-e, docs/policies.md "Approver devices"): each vote records the
// authenticator that asserted it and its signature counter; approval_device_counter keeps
// the last counter per device so a cloned authenticator (a counter that does not grow) is
// refused. approval_vote's two new columns are declared on ApprovalVoteEntity (schema.ts).
import { EntitySchema, type MigrationInterface, type QueryRunner } from 'typeorm';

export const ApprovalDeviceCounterEntity = new EntitySchema<Record<string, unknown>>({
  name: 'ApprovalDeviceCounter',
  tableName: 'approval_device_counter',
  columns: {
    device_id: { type: 'text', primary: true },
    operator_id: { type: 'text' },
    sign_count: { type: 'bigint' },
    updated_at: { type: 'timestamp with time zone' },
  },
});

export const APPROVAL_DEVICE_ENTITIES = [ApprovalDeviceCounterEntity];

export class AddApprovalDevices1795910400000 implements MigrationInterface {
  readonly name = 'AddApprovalDevices1795910400000';

  async up(q: QueryRunner): Promise<void> {
    await q.query(`ALTER TABLE "approval_vote" ADD "device_id" text`);
    await q.query(`ALTER TABLE "approval_vote" ADD "sign_count" bigint`);
    await q.query(`CREATE TABLE "approval_device_counter" (
      "device_id" text NOT NULL, "operator_id" text NOT NULL, "sign_count" bigint NOT NULL,
      "updated_at" timestamp with time zone NOT NULL,
      CONSTRAINT "PK_approval_device_counter" PRIMARY KEY ("device_id"))`);
  }

  async down(q: QueryRunner): Promise<void> {
    await q.query(`DROP TABLE "approval_device_counter"`);
    await q.query(`ALTER TABLE "approval_vote" DROP COLUMN "sign_count"`);
    await q.query(`ALTER TABLE "approval_vote" DROP COLUMN "device_id"`);
  }
}
