import type { MigrationInterface, QueryRunner } from 'typeorm';

/**
 * Tables of the platform walkthrough: a withdrawal request written by a producer (with its
 * event in the outbox, same transaction) and the effect a consumer applies exactly once.
 */
export class CreateWalkthroughTables1795478500000 implements MigrationInterface {
  readonly name = 'CreateWalkthroughTables1795478500000';

  async up(queryRunner: QueryRunner): Promise<void> {
    await queryRunner.query(`CREATE TABLE "walkthrough_withdrawal" (
      "id" uuid PRIMARY KEY,
      "customer_account" text NOT NULL,
      "asset" text NOT NULL,
      "amount" numeric(78,0) NOT NULL CHECK ("amount" > 0),
      "created_at" timestamptz NOT NULL DEFAULT now()
    )`);
    await queryRunner.query(`CREATE TABLE "walkthrough_effect" (
      "withdrawal_id" uuid PRIMARY KEY,
      "amount" numeric(78,0) NOT NULL,
      "event_id" uuid NOT NULL,
      "handled_at" timestamptz NOT NULL DEFAULT now()
    )`);
  }

  async down(queryRunner: QueryRunner): Promise<void> {
    await queryRunner.query('DROP TABLE "walkthrough_effect"');
    await queryRunner.query('DROP TABLE "walkthrough_withdrawal"');
  }
}
