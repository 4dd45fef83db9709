// @vitest-environment happy-dom
import { cleanup, fireEvent, render, screen, waitFor } from '@testing-library/react';
import { afterEach, describe, expect, it, vi } from 'vitest';
import LayersPanel from './LayersPanel';

afterEach(() => {
  cleanup();
  vi.unstubAllGlobals();
});

const image = { id: `sha256:${'a'.repeat(64)}`, tags: ['evil:latest'], size: 10, created: 1, diffIds: ['sha256:b'] };
const rows = [
  { index: 0, diffId: 'sha256:b', createdBy: '/bin/sh -c #(nop) ADD file:x in /', size: 10, emptyLayer: false },
];

/** The server, as the Layers routes answer: `answers` by the path's last part, JSON with a status. */
function server(answers: Record<string, [number, unknown]>) {
  const calls: string[] = [];
  vi.stubGlobal(
    'fetch',
    vi.fn(async (url: string) => {
      const what = /\/(images|layers|analysis|files|paths)(\?.*)?$/.exec(url)?.[1] ?? url;
      calls.push(what);
      const [status, body] = answers[what] ?? [404, { error: { code: 'not_found', message: 'no' } }];
      return new Response(JSON.stringify(body), { status, headers: { 'content-type': 'application/json' } });
    }),
  );
  return calls;
}

const limit = (limit: string, max: number, message: string): [number, unknown] => [
  422,
  { error: { code: 'engine_limit', message }, limit, max },
];

describe('Layers tab, when the server stopped reading an image', () => {
  it('shows what the engine sent too much of, and does not ask again or go on "reading"', async () => {
    const calls = server({
      images: [200, { images: [image], containers: [] }],
      layers: [200, { rows, diffIds: ['sha256:b'] }],
      analysis: limit(
        'entries',
        2_000_000,
        'the image export has more than 2,000,000 files; the Layers view stops there',
      ),
    });
    let engineChanged = () => {};
    render(
      <LayersPanel
        apiBase="/api/sandboxes/sb"
        locale="en"
        subscribe={(onChange) => {
          engineChanged = onChange;
          return () => {};
        }}
      />,
    );
    const alert = await screen.findByTestId('layers-stopped');
    expect(alert.getAttribute('role')).toBe('alert');
    expect(alert.textContent).toBe('The Layers view stopped reading this image: it has more than 2,000,000 files.');
    expect(screen.queryByText('Reading the layers’ files…')).toBeNull();

    // The engine changes: the list is fetched again, the image's analysis is not.
    engineChanged();
    await waitFor(() => expect(calls.filter((c) => c === 'images')).toHaveLength(2));
    expect(calls.filter((c) => c === 'analysis')).toHaveLength(1);

    // Its layers' files are not asked for either: the reason shows in their place.
    fireEvent.click(screen.getByRole('button', { name: /^Layer 0,/ }));
    await waitFor(() => expect(screen.getAllByRole('alert')).toHaveLength(2));
    expect(calls).not.toContain('files');
  });

  it('says it in Korean, in the stack, when even the layer list needed the export', async () => {
    server({
      images: [200, { images: [image], containers: [] }],
      layers: limit('bytes', 32 * 1024 ** 3, 'the image export is larger than 32 GiB; the Layers view stops there'),
    });
    render(<LayersPanel apiBase="/api/sandboxes/sb" locale="ko" subscribe={() => () => {}} />);
    const alert = await screen.findByTestId('layers-stopped');
    expect(alert.textContent).toBe(
      '레이어 보기가 이 이미지를 읽다가 멈췄습니다. 이미지를 내보낸 크기가 32 GiB보다 큽니다.',
    );
  });

  it('shows a failed layer file list in the file panel, with the server message', async () => {
    server({
      images: [200, { images: [image], containers: [] }],
      layers: [200, { rows, diffIds: ['sha256:b'] }],
      analysis: [200, { rows, diffIds: ['sha256:b'], totalBytes: 10, wastedBytes: 0, efficiency: 1, layers: [] }],
      files: [
        502,
        { error: { code: 'engine_export', message: 'the image export from your engine could not be read' } },
      ],
    });
    render(<LayersPanel apiBase="/api/sandboxes/sb" locale="en" subscribe={() => () => {}} />);
    fireEvent.click(await screen.findByRole('button', { name: /^Layer 0,/ }));
    const alert = await screen.findByRole('alert');
    expect(alert.textContent).toBe(
      'The Layers view could not load: the image export from your engine could not be read',
    );
  });
});

describe('Layers tab, when the image shown changes', () => {
  const img = (name: string, layers: number, created: number) => ({
    id: `sha256:${name.padEnd(64, '0')}`,
    tags: [`${name}:latest`],
    size: 10,
    created,
    diffIds: Array.from({ length: layers }, (_, i) => `sha256:${name}${i}`),
  });
  const myapp = img('myapp', 7, 3);
  const three = img('three', 3, 2);
  const one = img('one', 1, 1);
  const answers = (images: unknown[]): Record<string, [number, unknown]> => ({
    images: [200, { images, containers: [] }],
    layers: [200, { rows: [], diffIds: [] }],
    analysis: [200, { rows: [], diffIds: [], totalBytes: 0, wastedBytes: 0, efficiency: 1, layers: [] }],
    files: [200, { files: [] }],
  });

  it('a lesson link to an image with three layers after layer 4 of myapp asks for a layer, not "loading"', async () => {
    server(answers([myapp, three, one]));
    const props = { apiBase: '/api/sandboxes/sb', locale: 'en' as const, subscribe: () => () => {} };
    const { rerender } = render(<LayersPanel {...props} focus={{ image: 'myapp', layer: 4 }} />);
    expect(await screen.findByRole('heading', { name: 'Files of layer 4' })).toBeTruthy();
    rerender(<LayersPanel {...props} focus={{ image: 'three' }} />);
    expect(await screen.findByText('Choose a layer to see its files.')).toBeTruthy();
    expect(screen.queryByRole('heading', { name: 'Files of layer 4' })).toBeNull();
  });

  it('a rebuilt image with fewer layers drops the chosen layer; choosing another image drops the comparison', async () => {
    server(answers([myapp, three, one]));
    let engineChanged = () => {};
    render(
      <LayersPanel
        apiBase="/api/sandboxes/sb"
        locale="en"
        focus={{ image: 'myapp', layer: 5 }}
        subscribe={(onChange) => {
          engineChanged = onChange;
          return () => {};
        }}
      />,
    );
    expect(await screen.findByRole('heading', { name: 'Files of layer 5' })).toBeTruthy();
    fireEvent.change(screen.getByRole('combobox', { name: /Compare with/ }), { target: { value: one.id } });
    expect(await screen.findByText('They share 0 layers (7 and 1 in all).')).toBeTruthy();

    // myapp is rebuilt with three layers: there is no layer 5 in it any more.
    server(answers([{ ...img('myapp', 3, 4), id: `sha256:${'f'.repeat(64)}` }, three, one]));
    engineChanged();
    expect(await screen.findByText('Choose a layer to see its files.')).toBeTruthy();

    fireEvent.click(screen.getByRole('button', { name: /^three/ }));
    await waitFor(() => expect(screen.queryByText(/^They share/)).toBeNull());
    expect((screen.getByRole('combobox', { name: /Compare with/ }) as HTMLSelectElement).value).toBe('');
  });
});
