/**
 * This agent's manifest (asap-wire §4): one skill per registered template (the highest version of
 * each `namespace.name`), served with an ETag and `Cache-Control: public, max-age=300`. It is
 * rebuilt only when the set of templates changes.
 */
import { createHash } from 'node:crypto';
import packageJson from '../../package.json' with { type: 'json' };
import type { Engine } from '../engine/index.ts';
import {
  ASAP_ENVELOPE_VERSION,
  ASAP_SUPPORTED_TRANSPORT_VERSIONS,
  validateManifest,
  type Manifest,
  type Skill,
} from '../protocol/index.ts';

export interface ManifestInfo {
  /** Default `Baton`. */
  name?: string;
  /** Default the package description. */
  description?: string;
  /** Default the package version. */
  version?: string;
}

export interface ServedManifest {
  manifest: Manifest;
  /** The JSON body, every key present. */
  json: string;
  /** `"<sha256 hex of the JSON with sorted keys>"`, quotes included. */
  etag: string;
}

export const MANIFEST_CACHE_CONTROL = 'public, max-age=300';

/** Builds the manifest of `engine`'s templates, and rebuilds it when they change. */
export class ManifestSource {
  readonly #engine: Engine;
  readonly #agentId: string;
  readonly #publicUrl: () => string;
  readonly #info: Required<ManifestInfo>;
  #key: string | undefined;
  #served: ServedManifest | undefined;

  /** `publicUrl` is asked on every build: it may only be known once the server listens. */
  constructor(engine: Engine, options: { agentId: string; publicUrl: () => string; info?: ManifestInfo }) {
    this.#engine = engine;
    this.#agentId = options.agentId;
    this.#publicUrl = options.publicUrl;
    this.#info = {
      name: options.info?.name ?? 'Baton',
      description: options.info?.description ?? packageJson.description,
      version: options.info?.version ?? packageJson.version,
    };
  }

  get agentId(): string {
    return this.#agentId;
  }

  current(): ServedManifest {
    const templates = this.#engine.templates.list();
    const key = [this.#asapUrl(), ...templates.map((t) => `${t.namespace}.${t.name}@${t.version}`)].join(
      '\n',
    );
    if (this.#served === undefined || key !== this.#key) {
      this.#served = this.#build();
      this.#key = key;
    }
    return this.#served;
  }

  #asapUrl(): string {
    return `${this.#publicUrl().replace(/\/+$/, '')}/asap`;
  }

  #build(): ServedManifest {
    const raw = {
      id: this.#agentId,
      ...this.#info,
      capabilities: {
        asap_version: ASAP_ENVELOPE_VERSION,
        skills: templateSkills(this.#engine),
        state_persistence: false,
        streaming: true,
      },
      endpoints: { asap: this.#asapUrl() },
      supported_versions: [...ASAP_SUPPORTED_TRANSPORT_VERSIONS],
    };
    const checked = validateManifest(raw);
    if (!checked.ok) {
      const problem = 'error' in checked ? checked.error.message : JSON.stringify(checked.issues);
      throw new Error(`the agent manifest is invalid: ${problem}`);
    }
    const json = JSON.stringify(checked.manifest);
    const etag = `"${createHash('sha256').update(sortedJson(checked.manifest)).digest('hex')}"`;
    return { manifest: checked.manifest, json, etag };
  }
}

/** One skill per `namespace.name`: its highest version's description and input schema. */
function templateSkills(engine: Engine): Skill[] {
  const skills = new Map<string, Skill>();
  for (const template of engine.templates.list()) {
    const id = `${template.namespace}.${template.name}`;
    if (skills.has(id)) continue; // list() puts the highest version first
    skills.set(id, {
      id,
      description: template.description || `Runs the ${id}@${template.version} workflow`,
      input_schema: template.input_schema ?? null,
      output_schema: null,
    });
  }
  return [...skills.values()];
}

/** `If-None-Match` matches: `*`, or one of its comma-separated tags (weak or not) is `etag`. */
export function etagMatches(ifNoneMatch: string | undefined, etag: string): boolean {
  if (ifNoneMatch === undefined) return false;
  return ifNoneMatch.split(',').some((tag) => {
    const trimmed = tag.trim();
    return trimmed === '*' || trimmed === etag || trimmed === `W/${etag}`;
  });
}

/** JSON with object keys sorted at every level (what the ETag hashes). */
export function sortedJson(value: unknown): string {
  if (Array.isArray(value)) return `[${value.map(sortedJson).join(',')}]`;
  if (value !== null && typeof value === 'object') {
    const entries = Object.keys(value)
      .sort()
      .map((key) => `${JSON.stringify(key)}:${sortedJson((value as Record<string, unknown>)[key])}`);
    return `{${entries.join(',')}}`;
  }
  return JSON.stringify(value) ?? 'null';
}
