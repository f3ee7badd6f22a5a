import { resolve } from 'node:path';
import { StringEnum, Type, type ComponentDescriptor, type ComponentServices, type Static } from '@engram/core';
import { HeldEvents } from '../data/held-events.js';
import type { LabelledData, LabelledSet } from '../data/labelled-set.js';
import { DecodePool } from '../images/decode-pool.js';
import type { DecodeSpec } from '../images/decode-spec.js';
import { imageSize } from '../images/decode-image.js';
import {
  hasSplitFolders,
  indexImages,
  readManifest,
  scanClassFolders,
  type ImageIndex,
} from '../images/image-index.js';
import { ImageRows, type ImageStats } from '../images/image-rows.js';
import { scenarioOption } from '../scenarios/scenario.schema.js';
import { FiniteDataSource } from './finite-data-source.js';
import { checkImageFolder } from './image-folder.check.js';

const size = (description: string) =>
  Type.Optional(
    Type.Union([Type.Integer({ minimum: 1 }), Type.Array(Type.Integer({ minimum: 1 }), { minItems: 2, maxItems: 2 })], {
      description,
    }),
  );

/** Options of the `image-folder` source. */
export const ImageFolderOptions = Type.Object(
  {
    root: Type.Optional(
      Type.String({
        minLength: 1,
        description:
          'Folder of class folders, root/<class>/*.{png,jpg,jpeg,webp} (class ids from sorted folder names, as torchvision ImageFolder); with train/ and test/ sub-folders, those are the split.',
      }),
    ),
    manifest: Type.Optional(
      Type.String({
        minLength: 1,
        description:
          'Instead of root: a CSV (header path,label[,task]) or JSONL ({"path","label","task"?}) list of images, paths relative to it.',
      }),
    ),
    testManifest: Type.Optional(
      Type.String({ minLength: 1, description: 'Manifest of the test images (with manifest); else testFraction.' }),
    ),
    channels: StringEnum(['rgb', 'grayscale'] as const, {
      default: 'rgb',
      description: 'Decode to 3 channels (alpha dropped) or 1.',
    }),
    resize: size(
      'Resize every image: [height, width] exactly, or one number for the shorter side (aspect kept; needs centerCrop).',
    ),
    centerCrop: size('After resize, keep the central [height, width] (one number: a square).'),
    threads: Type.Integer({ minimum: 1, maximum: 64, default: 2, description: 'Decode worker threads.' }),
    prefetch: Type.Integer({
      minimum: 1,
      default: 4,
      description: 'Batches decoded ahead of the trainer; memory is bounded by this, not by the data set.',
    }),
    cache: Type.Boolean({
      default: false,
      description: 'Keep decoded images in memory after their first decode (memory grows with the data set).',
    }),
    scale: Type.Number({ default: 1 / 255, description: 'Multiply the pixel bytes by this (default: values 0..1).' }),
    scenario: scenarioOption({ type: 'class-incremental', classesPerExperience: 2, shuffleClasses: false }),
    testFraction: Type.Number({
      exclusiveMinimum: 0,
      exclusiveMaximum: 1,
      default: 0.2,
      description: 'Without a test split: share of each class held out for testing (seeded).',
    }),
  },
  { additionalProperties: false },
);
export type ImageFolderOptions = Static<typeof ImageFolderOptions>;

const pair = (v: number | number[] | undefined): [number, number] | undefined =>
  v === undefined ? undefined : typeof v === 'number' ? [v, v] : [v[0] as number, v[1] as number];

/** Lists the images of the options' folder tree or manifests, with class ids. */
export async function indexImageFolder(o: ImageFolderOptions, baseDir: string): Promise<ImageIndex> {
  if ((o.root === undefined) === (o.manifest === undefined)) throw new Error('give root or manifest (one of them)');
  if (o.root !== undefined) {
    const root = resolve(baseDir, o.root);
    if (await hasSplitFolders(root))
      return indexImages(await scanClassFolders(resolve(root, 'train')), await scanClassFolders(resolve(root, 'test')));
    return indexImages(await scanClassFolders(root));
  }
  const train = await readManifest(resolve(baseDir, o.manifest as string));
  const test = o.testManifest !== undefined ? await readManifest(resolve(baseDir, o.testManifest)) : undefined;
  return indexImages(train, test);
}

/** The decode settings every worker uses; probes the first image's size when the options leave it open. */
export async function decodeSpec(o: ImageFolderOptions, firstFile: string): Promise<DecodeSpec> {
  const crop = pair(o.centerCrop);
  const resize = typeof o.resize === 'number' ? o.resize : pair(o.resize);
  let hw: [number, number];
  if (crop) hw = crop;
  else if (Array.isArray(resize)) hw = resize;
  else if (typeof resize === 'number')
    throw new Error('resize by the shorter side needs centerCrop (one shape for all)');
  else {
    try {
      const s = await imageSize(firstFile);
      hw = [s.height, s.width];
    } catch (e) {
      throw new Error(`${firstFile}: cannot read its size (${(e as Error).message.split('\n')[0] ?? ''})`, {
        cause: e,
      });
    }
  }
  return {
    channels: o.channels === 'grayscale' ? 1 : 3,
    ...(resize !== undefined ? { resize } : {}),
    ...(crop ? { centerCrop: crop } : {}),
    height: hw[0],
    width: hw[1],
    scale: o.scale,
  };
}

/**
 * The `image-folder` data source: the file list and labels are indexed once (in memory); pixels are
 * decoded by a pool of worker threads a few batches ahead of the trainer, so memory is bounded by the
 * prefetch unless `cache` is on. Every scenario works over it (scenarios only need the labels).
 */
export class ImageFolderSource extends FiniteDataSource {
  /** Decode counters (images decoded, unreadable files, consumer wait). */
  readonly stats: ImageStats;
  private readonly pool: DecodePool;

  constructor(o: ImageFolderOptions, baseDir: string, services: Pick<ComponentServices, 'rng' | 'events'>) {
    const stats: ImageStats = { decoded: 0, unreadable: 0, waitMs: 0 };
    const events = new HeldEvents(services.events);
    const pool = new DecodePool(o.threads);
    const failed = new Set<string>();
    const load = async (): Promise<LabelledData> => {
      const index = await indexImageFolder(o, baseDir);
      const spec = await decodeSpec(o, index.train.files[0] as string);
      const sampleShape = [spec.height, spec.width, spec.channels];
      const set = (part: ImageIndex['train']): LabelledSet => ({
        x: new Float32Array(0),
        y: part.y,
        sampleShape,
        ...(part.task ? { task: part.task } : {}),
        loader: new ImageRows(part.files, spec, pool, o.threads, o.prefetch, o.cache, stats, failed, events),
      });
      return {
        train: set(index.train),
        ...(index.test ? { test: set(index.test) } : {}),
        numClasses: index.classNames.length,
        classNames: index.classNames,
      };
    };
    super(load, o.scenario, o.testFraction, services.rng, () => events.release());
    this.pool = pool;
    this.stats = stats;
  }

  /** Terminates the decode workers (called once when the run ends). */
  close(): Promise<void> {
    return this.pool.close();
  }
}

/** The `image-folder` dataset component. */
export const imageFolderDescriptor: ComponentDescriptor = {
  role: 'dataset',
  kind: 'image-folder',
  description:
    'Images on disk (root/<class>/*.png|jpg|jpeg|webp, or a CSV/JSONL manifest), decoded by worker threads ahead of the trainer, cut by a scenario.',
  options: ImageFolderOptions,
  create: (options, services) => new ImageFolderSource(options as ImageFolderOptions, services.baseDir, services),
  check: (options, context) => checkImageFolder(options as ImageFolderOptions, context),
};
