// Types of haproxy.mjs for the TypeScript that imports it (the two-replica tests).
export const HAPROXY_BIN: string;
export const REPLICA_HEADER: string;
export function haproxyConfig(o: {
  host: string;
  port: number;
  replicas: { name: string; port: number }[];
  adminSocket: string;
  tunnel?: string;
}): string;
export function checkHaproxyConfig(file: string): void;
export function haproxyArgs(file: string): string[];
export function haproxyCommand(adminSocket: string, command: string): Promise<string>;
export function replicaStates(adminSocket: string): Promise<Record<string, { status: string; sessions: number }>>;
