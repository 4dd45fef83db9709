import { describe, expect, it } from 'vitest';
import { ApiError } from '../../lib/api';
import { formatBinary, formatBytes, instruction, parseLayersLink } from './format';
import { failureText, layersMessages } from './messages';

describe('Layers tab formatting', () => {
  it('formats sizes', () => {
    expect(formatBytes(0)).toBe('0 B');
    expect(formatBytes(2097152)).toBe('2.1 MB');
    expect(formatBytes(1_500_000_000)).toBe('1.5 GB');
  });

  it('formats limits in the binary units they are set in', () => {
    expect(formatBinary(4 * 1024 * 1024)).toBe('4 MiB');
    expect(formatBinary(32 * 1024 ** 3)).toBe('32 GiB');
    expect(formatBinary(1536)).toBe('1.5 KiB');
    expect(formatBinary(100)).toBe('100 B');
  });

  it('words what the engine sent too much of, and falls back to the server message', () => {
    const en = layersMessages('en');
    const ko = layersMessages('ko');
    const refused = (limit: string, max: number) =>
      new ApiError(422, 'engine_limit', 'the server says', { error: {}, limit, max });
    expect(failureText(en, refused('time', 600_000))).toBe(
      'The Layers view stopped reading this image: your engine took longer than 10 minutes to send it.',
    );
    expect(failureText(ko, refused('idle', 60_000))).toBe(
      '레이어 보기가 이 이미지를 읽다가 멈췄습니다. 엔진이 이미지를 보내다가 60초 동안 아무것도 보내지 않았습니다.',
    );
    expect(failureText(en, refused('path', 4096))).toMatch(/longer than 4,096 characters\.$/);
    expect(failureText(en, refused('constructor', 1))).toBe('The Layers view could not load: the server says');
    expect(failureText(en, new ApiError(500, 'internal', 'boom'))).toBe('The Layers view could not load: boom');
  });

  it('shows history lines as Dockerfile instructions', () => {
    expect(instruction('/bin/sh -c #(nop)  CMD ["sh"]')).toBe('CMD ["sh"]');
    expect(instruction('/bin/sh -c rm /data/big')).toBe('RUN rm /data/big');
    expect(instruction('/bin/sh -c #(nop) COPY file:abc in /app ')).toBe('COPY file:abc in /app');
  });

  it('shows BuildKit history lines as the Dockerfile said them', () => {
    // As docker 26's BuildKit wrote them for FROM / ARG V=1 / WORKDIR / COPY / RUN / ENV / EXPOSE / CMD.
    expect(instruction('COPY app.py . # buildkit')).toBe('COPY app.py .');
    expect(instruction('RUN /bin/sh -c pip install -r requirements.txt # buildkit')).toBe(
      'RUN pip install -r requirements.txt',
    );
    expect(instruction('RUN |1 V=1 /bin/sh -c echo $V > /v.txt # buildkit')).toBe('RUN echo $V > /v.txt');
    expect(instruction('|1 V=1 /bin/sh -c echo $V')).toBe('RUN echo $V');
    expect(instruction('WORKDIR /app')).toBe('WORKDIR /app');
    expect(instruction('ARG V=1')).toBe('ARG V=1');
    expect(instruction('EXPOSE map[80/tcp:{}]')).toBe('EXPOSE map[80/tcp:{}]');
    expect(instruction('CMD ["sh" "-c" "cat /v.txt"]')).toBe('CMD ["sh" "-c" "cat /v.txt"]');
    // A shell command that itself mentions "# buildkit" midway is left as it is.
    expect(instruction('RUN /bin/sh -c echo "# buildkit" > /x # buildkit')).toBe('RUN echo "# buildkit" > /x');
  });

  it('reads layer links from lesson steps', () => {
    expect(parseLayersLink('#layers:image=myapp&layer=2')).toEqual({ image: 'myapp', layer: 2 });
    expect(parseLayersLink('#layers:image=python:3-slim')).toEqual({ image: 'python:3-slim' });
    expect(parseLayersLink('#layers:layer=x')).toEqual({});
    expect(parseLayersLink('#other')).toBeNull();
  });
});
