export type CodeMode = 'random' | 'sequential';

/** Thrown by allocateCodes when no free code is left for this recipient. */
export class CodeSpaceExhaustedError extends Error {
  readonly mode: CodeMode;
  readonly length: number;
  readonly inUse: number;

  constructor(mode: CodeMode, length: number, inUse: number, requested: number) {
    super(
      mode === 'random'
        ? `No free ${length}-digit reply code is left for this recipient: ${requested} needed, ` +
            `${inUse} held by pending asks out of ${codeSpaceSize(length)}. ` +
            'Wait for some of their asks to end, or raise the code length.'
        : `The sequential reply-code counter for this recipient has run out (${inUse} codes in use). ` +
            'Switch this recipient to random codes.',
    );
    this.name = 'CodeSpaceExhaustedError';
    this.mode = mode;
    this.length = length;
    this.inUse = inUse;
  }
}

export interface CodeAllocationRequest {
  /** One code per option. */
  count: number;
  mode: CodeMode;
  /** Digits, for random mode (e.g. 4); ignored by sequential. */
  length: number;
  /** Codes of this recipient's pending asks: never reuse. */
  inUse: ReadonlySet<string>;
  /** Codes of recently ended asks: reuse only when nothing else is free. */
  avoid?: ReadonlySet<string>;
  /** Sequential counter carried by the caller (starts at 1). */
  nextSequential: number;
  /** [0,1), e.g. the workflow's deterministic Math.random. */
  random: () => number;
}

/** Longest random code; 9 digits keeps every code a safe integer and typeable. */
const MAX_RANDOM_LENGTH = 9;
/** Random draws per code before falling back to a scan, so allocation always ends. */
const MAX_RANDOM_DRAWS = 32;

function codeSpaceSize(length: number): number {
  return 9 * 10 ** (length - 1);
}

function assertRequest(req: CodeAllocationRequest): void {
  if (!Number.isSafeInteger(req.count) || req.count < 0) {
    throw new RangeError(`allocateCodes: count must be a whole number ≥ 0, got ${req.count}`);
  }
  if (req.mode === 'random' && (!Number.isInteger(req.length) || req.length < 1 || req.length > MAX_RANDOM_LENGTH)) {
    throw new RangeError(`allocateCodes: length must be 1–${MAX_RANDOM_LENGTH} digits, got ${req.length}`);
  }
  if (req.mode === 'sequential' && (!Number.isSafeInteger(req.nextSequential) || req.nextSequential < 1)) {
    throw new RangeError(`allocateCodes: nextSequential must be a whole number ≥ 1, got ${req.nextSequential}`);
  }
}

/**
 * Hands out `count` codes that no pending ask of this recipient holds, so a
 * reply can never be routed to the wrong ask.
 */
export function allocateCodes(req: CodeAllocationRequest): { codes: string[]; nextSequential: number } {
  assertRequest(req);
  if (req.count === 0) return { codes: [], nextSequential: req.nextSequential };
  return req.mode === 'random'
    ? { codes: allocateRandom(req), nextSequential: req.nextSequential }
    : allocateSequential(req);
}

/**
 * Throws CodeSpaceExhaustedError when `count` new codes cannot be handed out: the check that
 * allocation makes, without drawing random numbers, so that an update's validator can run it.
 * Returns how many codes of the random space are in use.
 */
export function assertCodesAvailable(req: Pick<CodeAllocationRequest, 'count' | 'mode' | 'length' | 'inUse'>): number {
  if (req.mode !== 'random') return req.inUse.size;
  let inUseInSpace = 0;
  for (const code of req.inUse) if (isInSpace(code, req.length)) inUseInSpace += 1;
  if (codeSpaceSize(req.length) - inUseInSpace < req.count) {
    throw new CodeSpaceExhaustedError('random', req.length, inUseInSpace, req.count);
  }
  return inUseInSpace;
}

function allocateRandom(req: CodeAllocationRequest): string[] {
  // First digit 1–9: people drop a leading zero when they type a number back.
  const min = 10 ** (req.length - 1);
  const size = codeSpaceSize(req.length);
  const avoid = req.avoid ?? new Set<string>();
  const taken = new Set(req.inUse);

  const inUseInSpace = assertCodesAvailable(req);

  const codeAt = (index: number): string => String(min + index);
  const draw = (): number => {
    const r = req.random();
    // Clamp: a misbehaving source must not yield codes outside the space.
    const index = Math.floor((Number.isFinite(r) ? r : 0) * size);
    return Math.min(Math.max(index, 0), size - 1);
  };
  const isFree = (code: string, allowAvoided: boolean): boolean =>
    !taken.has(code) && (allowAvoided || !avoid.has(code));

  const codes: string[] = [];
  while (codes.length < req.count) {
    let start = 0;
    let index: number | undefined;
    for (let attempt = 0; attempt < MAX_RANDOM_DRAWS && index === undefined; attempt += 1) {
      start = draw();
      if (isFree(codeAt(start), false)) index = start;
    }
    // Deterministic scan from the last draw. Each step past a non-free code passes a member of
    // inUse ∪ avoid, so it costs at most their size, and the count check guarantees a free code.
    index ??= scan(size, start, (i) => isFree(codeAt(i), false)) ?? scan(size, start, (i) => isFree(codeAt(i), true));
    if (index === undefined) throw new CodeSpaceExhaustedError('random', req.length, inUseInSpace, req.count);
    const found = codeAt(index);
    taken.add(found);
    codes.push(found);
  }
  return codes;
}

function scan(size: number, start: number, ok: (index: number) => boolean): number | undefined {
  for (let step = 0; step < size; step += 1) {
    const index = (start + step) % size;
    if (ok(index)) return index;
  }
  return undefined;
}

function isInSpace(code: string, length: number): boolean {
  return code.length === length && /^[1-9][0-9]*$/.test(code);
}

function allocateSequential(req: CodeAllocationRequest): { codes: string[]; nextSequential: number } {
  const avoid = req.avoid ?? new Set<string>();
  const codes: string[] = [];
  let n = req.nextSequential;
  // Counting up never runs dry, so avoided codes can always be skipped.
  while (codes.length < req.count) {
    if (!Number.isSafeInteger(n)) {
      throw new CodeSpaceExhaustedError('sequential', String(n).length, req.inUse.size, req.count);
    }
    const code = String(n);
    n += 1;
    if (req.inUse.has(code) || avoid.has(code)) continue;
    codes.push(code);
  }
  return { codes, nextSequential: n };
}
