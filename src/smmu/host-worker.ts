/**
 * The SMMU worker thread's task (piscina): runs the engine side of the host protocol over the
 * shared block until the main thread sends IN_STOP. See host.ts.
 */
import { runCoreLoop, type WorkerTask } from './host.js';

export default function smmuWorker(task: WorkerTask): void {
  runCoreLoop(task);
}
