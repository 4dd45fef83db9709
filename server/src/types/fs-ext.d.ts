// The one call of fs-ext the server uses (the package ships no types).
declare module 'fs-ext' {
  export function fcntlSync(fd: number, cmd: 'getfd' | 'setfd', arg?: number): number;
}
