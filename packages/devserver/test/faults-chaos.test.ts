/**
 * Chaos (`--chaos`): the supervisor SIGKILLs a random node every interval and starts it again, while SDK
 * clients publish and send. Counted in both directions over several deaths. Run `npm run build` first.
 */
import { afterAll, beforeAll, expect, it } from 'vitest'
import { startCluster, type Cluster } from '../src/cluster/index.js'
import { expectNothingLost } from './support/expect.js'
import { startLoad, type Load } from './support/load.js'

let cluster: Cluster
let load: Load | undefined
const kills: string[] = []

beforeAll(async () => {
  cluster = await startCluster({
    nodes: 3,
    chaosMs: 1500,
    log: (line, stream) => {
      if (line.startsWith('[chaos] killing')) kills.push(line)
      else if (stream === 'stderr' && !line.startsWith('[supervisor]')) process.stderr.write(line + '\n')
    },
  })
})
afterAll(async () => {
  await load?.close()
  await cluster?.stop()
})

it('chaos: nodes die every 1.5 s under load; nothing lost, duplicated or reordered', async () => {
  load = await startLoad({ url: cluster.url, clients: 4, messages: 250 })
  await load.run()
  await load.settle(20_000)
  expectNothingLost('chaos', load, { kills: kills.length })
  expect(kills.length).toBeGreaterThanOrEqual(2)
})
