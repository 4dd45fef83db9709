-- CreateTable
CREATE TABLE "PoolTarget" (
    "name" TEXT NOT NULL PRIMARY KEY,
    "count" INTEGER NOT NULL
);
