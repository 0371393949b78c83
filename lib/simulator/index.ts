/** Data simulator: public entry points. */
import { UsageError } from '../errors';
import type { Manifest } from './manifest';
import { checkOptions, resolveOptions, type SimulationOptions } from './options';
import { planSimulation } from './plan';
import { type FileWritten, writeSimulation } from './writer';

export { DEFECT_INFO, DEFECT_KINDS, DefectKind, type DefectRecord, ExpectedVerdict } from './defects';
export { formatSummary, type Manifest, MANIFEST_FILE, type ManifestFile } from './manifest';
export { checkOptions, DEFAULT_OPTIONS, resolveOptions, type SimulationOptions } from './options';
export { planSimulation } from './plan';
export { TRUTH_FILE, TRUTH_HEADER } from './truth';
export type { FileWritten } from './writer';

/** Plans and writes a whole simulation under the lake root `outDir`. Throws on invalid options. */
export async function simulate(
  outDir: string,
  options: Partial<SimulationOptions> = {},
  onFileWritten?: FileWritten,
): Promise<Manifest> {
  const full = resolveOptions(options);
  const problems = checkOptions(full);
  if (problems.length > 0) throw new UsageError(problems.join('; '));
  return writeSimulation(outDir, planSimulation(full), onFileWritten);
}
