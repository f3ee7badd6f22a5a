import { resolve } from 'node:path';
import type { ComponentCheckContext, PipelineProblem } from '@engram/core';
import { hasSplitFolders, ImageLayoutError, readManifest, scanClassFolders } from '../images/image-index.js';
import { pathProblem } from './data-checks.js';
import type { ImageFolderOptions } from './image-folder.source.js';

/**
 * `engram validate`'s check of an `image-folder` source, without decoding a pixel: the root folder (or
 * manifest) exists, every class folder holds an image, every manifest row names a path and a label and
 * every listed file exists. Problems sit at `/data/root`, `/data/manifest` or `/data/testManifest`.
 */
export async function checkImageFolder(
  o: ImageFolderOptions,
  context: ComponentCheckContext,
): Promise<PipelineProblem[]> {
  const at = (key: string, message: string): PipelineProblem[] => [{ path: `${context.path}/${key}`, message }];
  if ((o.root === undefined) === (o.manifest === undefined))
    return at(
      o.root === undefined ? 'root' : 'manifest',
      'give root (a folder of class folders) or manifest, not both',
    );
  if (o.testManifest !== undefined && o.manifest === undefined)
    return at('testManifest', 'testManifest goes with manifest');
  if (typeof o.resize === 'number' && o.centerCrop === undefined)
    return at('resize', 'resize by the shorter side needs centerCrop (one shape for all images)');
  try {
    if (o.root !== undefined) {
      const root = resolve(context.baseDir, o.root);
      const missing = await pathProblem(root, 'folder');
      if (missing !== undefined) return at('root', missing);
      if (await hasSplitFolders(root)) {
        await scanClassFolders(resolve(root, 'train'));
        await scanClassFolders(resolve(root, 'test'));
      } else await scanClassFolders(root);
      return [];
    }
    const out: PipelineProblem[] = [];
    for (const key of ['manifest', 'testManifest'] as const) {
      const file = o[key];
      if (file === undefined) continue;
      const list = await readManifest(resolve(context.baseDir, file)).catch((e: unknown) => {
        if (e instanceof ImageLayoutError) throw new ImageLayoutError(key, e.message);
        throw e;
      });
      for (const f of list.files) {
        const why = await pathProblem(f, 'file');
        if (why !== undefined) {
          out.push(...at(key, `${file} lists a missing image: ${why}`));
          break;
        }
      }
    }
    return out;
  } catch (e) {
    if (e instanceof ImageLayoutError) return at(e.key, e.message);
    throw e;
  }
}
