import { randomBytes } from 'node:crypto';

/** Eight random hex characters: tells one queue's batch ids from those of a queue state created earlier. */
export function randomToken(): string {
  return randomBytes(4).toString('hex');
}
