-- AlterTable
ALTER TABLE "Sandbox" ADD COLUMN     "assignedAt" TIMESTAMP(3);
