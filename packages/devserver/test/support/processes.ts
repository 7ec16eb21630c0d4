/** Whether an OS process still exists: the proof that a kill, a stop or a supervisor's exit really ended it. */

/** True while a process with this pid exists (signal 0 checks without sending anything). */
export function processAlive(pid: number | undefined): boolean {
  if (pid === undefined) return false
  try {
    process.kill(pid, 0)
    return true
  } catch {
    return false
  }
}
