import { describe, expect, it } from 'vitest';
import { formatBytes, instruction, parseLayersLink } from './format';

describe('Layers tab formatting', () => {
  it('formats sizes', () => {
    expect(formatBytes(0)).toBe('0 B');
    expect(formatBytes(2097152)).toBe('2.1 MB');
    expect(formatBytes(1_500_000_000)).toBe('1.5 GB');
  });

  it('shows history lines as Dockerfile instructions', () => {
    expect(instruction('/bin/sh -c #(nop)  CMD ["sh"]')).toBe('CMD ["sh"]');
    expect(instruction('/bin/sh -c rm /data/big')).toBe('RUN rm /data/big');
    expect(instruction('COPY app.py . # buildkit')).toBe('COPY app.py .');
  });

  it('reads layer links from lesson steps', () => {
    expect(parseLayersLink('#layers:image=myapp&layer=2')).toEqual({ image: 'myapp', layer: 2 });
    expect(parseLayersLink('#layers:image=python:3-slim')).toEqual({ image: 'python:3-slim' });
    expect(parseLayersLink('#layers:layer=x')).toEqual({});
    expect(parseLayersLink('#other')).toBeNull();
  });
});
