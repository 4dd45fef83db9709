-- AlterTable
ALTER TABLE "Sandbox" ADD COLUMN "address" TEXT;
ALTER TABLE "Sandbox" ADD COLUMN "holder" TEXT;

-- CreateTable
CREATE TABLE "QueueEntry" (
    "seq" INTEGER NOT NULL PRIMARY KEY AUTOINCREMENT,
    "learnerId" TEXT NOT NULL,
    "workshopId" TEXT,
    "address" TEXT,
    "since" DATETIME NOT NULL
);

-- CreateTable
CREATE TABLE "ClusterLease" (
    "name" TEXT NOT NULL PRIMARY KEY,
    "holder" TEXT NOT NULL,
    "expiresAt" DATETIME NOT NULL
);

-- CreateTable
CREATE TABLE "RateCounter" (
    "limiter" TEXT NOT NULL,
    "key" TEXT NOT NULL,
    "windowStart" DATETIME NOT NULL,
    "count" REAL NOT NULL,

    PRIMARY KEY ("limiter", "key")
);

-- CreateIndex
CREATE UNIQUE INDEX "QueueEntry_learnerId_key" ON "QueueEntry"("learnerId");
