'use client';
// Renders nothing. Rendered on the server, it puts the terminal's chunks (xterm) in the page's <head>
// (next/dynamic preloads the files of a dynamic import rendered in the server pass), so they download
// beside the page's own scripts instead of after hydration and the sandbox's answer.
import dynamic from 'next/dynamic';
import { Suspense } from 'react';

const Nothing = () => null;
const Preload = dynamic(() => import('./TerminalPane').then(() => Nothing), { ssr: true });

export function TerminalCodePreload() {
  // Its own boundary: the rest of the page hydrates without waiting for the chunk.
  return (
    <Suspense fallback={null}>
      <Preload />
    </Suspense>
  );
}
