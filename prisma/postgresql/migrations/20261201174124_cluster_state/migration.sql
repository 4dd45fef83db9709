-- AlterTable
ALTER TABLE "Sandbox" ADD COLUMN     "address" TEXT,
ADD COLUMN     "holder" TEXT;

-- CreateTable
CREATE TABLE "QueueEntry" (
    "seq" SERIAL NOT NULL,
    "learnerId" TEXT NOT NULL,
    "workshopId" TEXT,
    "address" TEXT,
    "since" TIMESTAMP(3) NOT NULL,

    CONSTRAINT "QueueEntry_pkey" PRIMARY KEY ("seq")
);

-- CreateTable
CREATE TABLE "ClusterLease" (
    "name" TEXT NOT NULL,
    "holder" TEXT NOT NULL,
    "expiresAt" TIMESTAMP(3) NOT NULL,

    CONSTRAINT "ClusterLease_pkey" PRIMARY KEY ("name")
);

-- CreateTable
CREATE TABLE "RateCounter" (
    "limiter" TEXT NOT NULL,
    "key" TEXT NOT NULL,
    "windowStart" TIMESTAMP(3) NOT NULL,
    "count" DOUBLE PRECISION NOT NULL,

    CONSTRAINT "RateCounter_pkey" PRIMARY KEY ("limiter","key")
);

-- CreateIndex
CREATE UNIQUE INDEX "QueueEntry_learnerId_key" ON "QueueEntry"("learnerId");
