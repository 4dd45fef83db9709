// Typed checks: assertions on the learner's own Docker Engine (read through its API socket), their
// workspace, the commands they ran, or a shell script inside the sandbox. Each result names what is
// missing, in both languages, so a failed check is a hint rather than a red cross.
import Docker from 'dockerode';
import { CheckSpec } from '@dockside/lessons';
import { FILE_EXIT, type Runtime } from './runtime';
import { analyse, type LayerIndex } from '../layers/filesystem';
import { commandsRan } from './commandLine';
import { httpGet } from './httpProbe';
import type { CommandEvent } from './shellIntegration';

export { CheckSpec };

export type Hint = { en: string; ko: string };
export type CheckOutcome = { passed: boolean; hint?: Hint };

export type CheckContext = {
  sandboxId: string;
  runtime: Runtime;
  docker: Docker;
  commands: readonly CommandEvent[];
  /** Every layer's file list of an image (the Layers view's index, cached by layer). */
  layers?: (image: string) => Promise<LayerIndex[]>;
};

const pass: CheckOutcome = { passed: true };
const fail = (en: string, ko: string): CheckOutcome => ({ passed: false, hint: { en, ko } });

type ImageInfo = { Id: string; Size?: number; RootFS?: { Layers?: string[] } };

async function inspectImage(docker: Docker, image: string): Promise<ImageInfo | null> {
  try {
    return (await docker.getImage(image).inspect()) as ImageInfo;
  } catch (err) {
    if ((err as { statusCode?: number }).statusCode === 404) return null;
    throw err;
  }
}

const missingImage = (image: string) =>
  fail(`There is no image \`${image}\` yet.`, `아직 \`${image}\` 이미지가 없습니다.`);

type ContainerRow = Docker.ContainerInfo;

/** Containers matching a name or an image (any container when neither is given). */
async function findContainers(ctx: CheckContext, t: { name?: string; image?: string }): Promise<ContainerRow[]> {
  const all = await ctx.docker.listContainers({ all: true });
  let imageId: string | undefined;
  if (t.image) imageId = (await inspectImage(ctx.docker, t.image))?.Id;
  return all.filter(
    (c) =>
      (!t.name || c.Names.some((n) => n.replace(/^\//, '') === t.name)) &&
      (!t.image ||
        c.Image === t.image ||
        c.Image === `${t.image}:latest` ||
        (imageId !== undefined && c.ImageID === imageId)),
  );
}

function describeTarget(t: { name?: string; image?: string }): Hint {
  if (t.name) return { en: `named \`${t.name}\``, ko: `\`${t.name}\` 이름의` };
  if (t.image) return { en: `from image \`${t.image}\``, ko: `\`${t.image}\` 이미지로 만든` };
  return { en: '', ko: '' };
}

async function imageLayers(ctx: CheckContext, image: string): Promise<LayerIndex[]> {
  if (!ctx.layers) throw new Error('layer contents cannot be read here');
  return ctx.layers(image);
}

const megabytes = (bytes: number) => (bytes / 1_000_000).toFixed(1);

const CHANGE_KIND: Record<number, 'C' | 'A' | 'D'> = { 0: 'C', 1: 'A', 2: 'D' };

export async function evaluate(spec: CheckSpec, ctx: CheckContext): Promise<CheckOutcome> {
  switch (spec.kind) {
    case 'imageExists':
      return (await inspectImage(ctx.docker, spec.image)) ? pass : missingImage(spec.image);

    case 'imageLayerCount': {
      const img = await inspectImage(ctx.docker, spec.image);
      if (!img) return missingImage(spec.image);
      const n = img.RootFS?.Layers?.length ?? 0;
      if (spec.min !== undefined && n < spec.min)
        return fail(
          `Image \`${spec.image}\` has ${n} layer${n === 1 ? '' : 's'}; this step asks for at least ${spec.min}.`,
          `\`${spec.image}\` 이미지의 레이어는 ${n}개입니다. 이 단계는 ${spec.min}개 이상이 필요합니다.`,
        );
      if (spec.max !== undefined && n > spec.max)
        return fail(
          `Image \`${spec.image}\` has ${n} layers; this step asks for at most ${spec.max}.`,
          `\`${spec.image}\` 이미지의 레이어는 ${n}개입니다. 이 단계는 ${spec.max}개 이하여야 합니다.`,
        );
      return pass;
    }

    case 'imageHistoryHas': {
      if (!(await inspectImage(ctx.docker, spec.image))) return missingImage(spec.image);
      const history = (await ctx.docker.getImage(spec.image).history()) as { CreatedBy: string }[];
      const re = new RegExp(spec.pattern, 'i');
      return history.some((h) => re.test(h.CreatedBy))
        ? pass
        : fail(
            `No step in the history of \`${spec.image}\` matches \`${spec.pattern}\`.`,
            `\`${spec.image}\` 이미지의 히스토리에 \`${spec.pattern}\`와 맞는 단계가 없습니다.`,
          );
    }

    case 'imagesShareLayer': {
      const [a, b] = spec.images;
      const [ia, ib] = await Promise.all([inspectImage(ctx.docker, a), inspectImage(ctx.docker, b)]);
      if (!ia) return missingImage(a);
      if (!ib) return missingImage(b);
      const layers = new Set(ia.RootFS?.Layers ?? []);
      return (ib.RootFS?.Layers ?? []).some((l) => layers.has(l))
        ? pass
        : fail(`\`${a}\` and \`${b}\` share no layer.`, `\`${a}\`와 \`${b}\`가 공유하는 레이어가 없습니다.`);
    }

    case 'containerRunning':
    case 'containerExited': {
      const want = spec.kind === 'containerRunning' ? 'running' : 'exited';
      const found = await findContainers(ctx, spec);
      const d = describeTarget(spec);
      if (found.length === 0) return fail(`There is no container ${d.en} yet.`, `아직 ${d.ko} 컨테이너가 없습니다.`);
      if (found.some((c) => c.State === want)) return pass;
      const states = [...new Set(found.map((c) => c.State))].join(', ');
      return want === 'running'
        ? fail(`The container ${d.en} is ${states}, not running.`, `${d.ko} 컨테이너가 실행 중이 아닙니다 (${states}).`)
        : fail(
            `The container ${d.en} is ${states}; it has not exited.`,
            `${d.ko} 컨테이너가 아직 종료되지 않았습니다 (${states}).`,
          );
    }

    case 'containerPublishes': {
      const found = await findContainers(ctx, spec);
      return found.some((c) => c.State === 'running' && c.Ports.some((p) => p.PublicPort === spec.port))
        ? pass
        : fail(
            `No running container publishes port ${spec.port} (use \`-p ${spec.port}:…\`).`,
            `포트 ${spec.port}를 공개한 실행 중인 컨테이너가 없습니다 (\`-p ${spec.port}:…\` 사용).`,
          );
    }

    case 'containerDiffHas': {
      const found = await findContainers(ctx, spec);
      const d = describeTarget(spec);
      if (found.length === 0) return fail(`There is no container ${d.en} yet.`, `아직 ${d.ko} 컨테이너가 없습니다.`);
      for (const c of found) {
        const changes = ((await ctx.docker.getContainer(c.Id).changes()) ?? []) as { Path: string; Kind: number }[];
        if (changes.some((ch) => ch.Path === spec.path && CHANGE_KIND[ch.Kind] === spec.change)) return pass;
      }
      const verb = { A: ['added', '추가'], C: ['changed', '변경'], D: ['deleted', '삭제'] }[spec.change];
      return fail(
        `\`docker diff\` does not show \`${spec.path}\` as ${verb[0]} (${spec.change}) yet.`,
        `\`docker diff\`에 \`${spec.path}\`가 아직 ${verb[1]}(${spec.change})로 나오지 않습니다.`,
      );
    }

    case 'fileInWorkspace': {
      const path = spec.path.startsWith('/') ? spec.path : `/workspace/${spec.path}`;
      // Read from outside, like the editor: a learner's replaced `head` or `sh` never runs for a check.
      const r = await ctx.runtime.file(ctx.sandboxId, 'read', [path], { under: '/' });
      if (r.code === FILE_EXIT.tooLarge)
        return fail(`\`${path}\` is larger than 1 MiB.`, `\`${path}\` 파일이 1 MiB보다 큽니다.`);
      if (r.code !== 0) return fail(`\`${path}\` does not exist yet.`, `아직 \`${path}\` 파일이 없습니다.`);
      if (spec.pattern && !new RegExp(spec.pattern, 'm').test(r.stdout.toString('utf8')))
        return fail(
          `\`${path}\` does not contain what this step asks for yet.`,
          `\`${path}\`에 이 단계에서 요구하는 내용이 아직 없습니다.`,
        );
      return pass;
    }

    case 'commandRun': {
      // Any simple command of a list or pipeline counts; one whose status the shell did not report passes
      // an exit-status check (the step's other checks see what it did).
      const re = new RegExp(spec.pattern);
      const ran = ctx.commands
        .flatMap((c) => commandsRan(c.commandLine, c.exitCode, c.pipeStatus))
        .filter((c) => re.test(c.command));
      if (ran.length === 0) return fail('Run the command shown in this step.', '이 단계의 명령을 실행해 보세요.');
      if (spec.exitCode !== undefined && !ran.some((c) => c.exitCode === spec.exitCode || c.exitCode === null))
        return fail(
          `The command ran but ended with status ${ran.at(-1)!.exitCode}; read its output and try again.`,
          `명령이 상태 ${ran.at(-1)!.exitCode}로 끝났습니다. 출력을 읽고 다시 시도해 보세요.`,
        );
      return pass;
    }

    case 'shell': {
      const r = await ctx.runtime.exec(ctx.sandboxId, ['sh', '-c', spec.script], { timeoutMs: 20_000 });
      if (r.code === 0) return pass;
      // A script says what is missing with `FAIL: <English>` and `FAIL ko: <Korean>` lines.
      const lines = r.stdout.toString('utf8').split('\n');
      const said = (prefix: string) =>
        lines
          .find((l) => l.startsWith(prefix))
          ?.slice(prefix.length)
          .trim();
      const en = said('FAIL:');
      if (!en)
        return fail(`The check script ended with status ${r.code}.`, `확인 스크립트가 상태 ${r.code}로 끝났습니다.`);
      return fail(en, said('FAIL ko:') || en);
    }

    case 'httpResponds': {
      // A server just started may not listen yet: a few tries before saying nothing answers.
      let answer: Awaited<ReturnType<typeof httpGet>> | undefined;
      for (let attempt = 0; attempt < 4 && !answer; attempt++) {
        if (attempt) await new Promise((r) => setTimeout(r, 750));
        answer = await httpGet(ctx.runtime, ctx.sandboxId, spec.port, spec.path).catch(() => undefined);
      }
      if (!answer)
        return fail(
          `Nothing answers on port ${spec.port} yet.`,
          `아직 포트 ${spec.port}에서 아무것도 응답하지 않습니다.`,
        );
      if (answer.status < 200 || answer.status > 299)
        return fail(
          `Port ${spec.port} answers \`${spec.path}\` with HTTP ${answer.status}.`,
          `포트 ${spec.port}가 \`${spec.path}\`에 HTTP ${answer.status}로 응답합니다.`,
        );
      if (spec.pattern && !new RegExp(spec.pattern).test(answer.body))
        return fail(
          `Port ${spec.port} answers, but not with the page this exercise asks for.`,
          `포트 ${spec.port}가 응답하지만, 이 연습이 요구하는 페이지가 아닙니다.`,
        );
      return pass;
    }

    case 'imageSizeBelow': {
      const img = await inspectImage(ctx.docker, spec.image);
      if (!img) return missingImage(spec.image);
      const size = img.Size ?? 0;
      return size < spec.megabytes * 1_000_000
        ? pass
        : fail(
            `Image \`${spec.image}\` is ${megabytes(size)} MB; this asks for less than ${spec.megabytes} MB.`,
            `\`${spec.image}\` 이미지는 ${megabytes(size)} MB입니다. ${spec.megabytes} MB보다 작아야 합니다.`,
          );
    }

    case 'imageHasPath':
    case 'imageLacksPath': {
      if (!(await inspectImage(ctx.docker, spec.image))) return missingImage(spec.image);
      const layers = await imageLayers(ctx, spec.image);
      const target = spec.path.replace(/^\/+|\/+$/g, '');
      if (spec.kind === 'imageHasPath')
        return analyse(layers).files.has(target)
          ? pass
          : fail(
              `Image \`${spec.image}\` has no \`/${target}\`.`,
              `\`${spec.image}\` 이미지에 \`/${target}\`가 없습니다.`,
            );
      // Deleted in a later layer still counts: the layer that added it carries it.
      const layer = layers.findIndex((l) => l.entries.some((e) => e.path === target));
      return layer < 0
        ? pass
        : fail(
            `Layer ${layer + 1} of \`${spec.image}\` still holds \`/${target}\`.`,
            `\`${spec.image}\`의 ${layer + 1}번 레이어에 아직 \`/${target}\`가 있습니다.`,
          );
    }

    case 'imagesDifferInLayers': {
      const [a, b] = spec.images;
      const [ia, ib] = await Promise.all([inspectImage(ctx.docker, a), inspectImage(ctx.docker, b)]);
      if (!ia) return missingImage(a);
      if (!ib) return missingImage(b);
      if (ia.Id === ib.Id)
        return fail(`\`${a}\` and \`${b}\` are the same image.`, `\`${a}\`와 \`${b}\`는 같은 이미지입니다.`);
      const before = new Set(ia.RootFS?.Layers ?? []);
      const fresh = (ib.RootFS?.Layers ?? []).filter((l) => !before.has(l)).length;
      return fresh <= spec.max
        ? pass
        : fail(
            `\`${b}\` has ${fresh} layers that \`${a}\` does not; this asks for at most ${spec.max}.`,
            `\`${b}\`에는 \`${a}\`에 없는 레이어가 ${fresh}개 있습니다. ${spec.max}개 이하여야 합니다.`,
          );
    }

    case 'noStoppedContainers': {
      const stopped = (await ctx.docker.listContainers({ all: true })).filter((c) =>
        ['exited', 'created', 'dead'].includes(c.State),
      );
      return stopped.length === 0
        ? pass
        : fail(
            `${stopped.length} stopped container${stopped.length === 1 ? ' is' : 's are'} left (\`docker ps -a\`).`,
            `멈춘 컨테이너가 ${stopped.length}개 남아 있습니다(\`docker ps -a\`).`,
          );
    }

    case 'noDanglingImages': {
      const dangling = await ctx.docker.listImages({ filters: { dangling: ['true'] } });
      return dangling.length === 0
        ? pass
        : fail(
            `${dangling.length} dangling image${dangling.length === 1 ? ' is' : 's are'} left (\`docker images -f dangling=true\`).`,
            `댕글링 이미지가 ${dangling.length}개 남아 있습니다(\`docker images -f dangling=true\`).`,
          );
    }
  }
}
