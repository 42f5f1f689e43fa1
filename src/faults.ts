/**
 * Crash points for the kill -9 tests. `FERRY_FAULT=checkpoint-write:3` kills the process with
 * SIGKILL the third time the named point is reached, halfway through that step. Read once; an
 * unset variable costs one comparison per call.
 */
const spec = process.env.FERRY_FAULT
const [faultName, faultCount] = spec ? spec.split(':') : []
let remaining = Number(faultCount ?? 1)

export function faultPoint(name: string): void {
  if (faultName !== name) return
  remaining -= 1
  if (remaining <= 0) process.kill(process.pid, 'SIGKILL')
}

/**
 * Whether the next `faultPoint(name)` kills the process: a step that cannot stop halfway by itself
 * (one unordered MongoDB insert) then does half its work first, as a crash in the middle would.
 */
export function faultDue(name: string): boolean {
  return faultName === name && remaining <= 1
}
