-- AlterTable
ALTER TABLE "Sandbox" ADD COLUMN "assignedAt" DATETIME;
