-- CreateTable
CREATE TABLE "PoolTarget" (
    "name" TEXT NOT NULL,
    "count" INTEGER NOT NULL,

    CONSTRAINT "PoolTarget_pkey" PRIMARY KEY ("name")
);
