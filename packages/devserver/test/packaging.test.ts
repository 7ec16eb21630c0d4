/**
 * The packages as a user installs them: `npm pack` each one, install the three tarballs into fresh projects,
 * then `require()` them from CommonJS and `import` them from ESM. Catches what a workspace never shows: a
 * missing README or LICENSE, build state shipped in the tarball, and an `exports` map that only answers `import`.
 */
import { execFileSync } from 'node:child_process'
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { fileURLToPath } from 'node:url'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'

const ROOT = fileURLToPath(new URL('../../../', import.meta.url))
const PACKAGES = ['protocol', 'sdk', 'devserver'] as const
// Pack, install (from the npm cache), two Node processes: 5–20 s here; the bound is for a cold cache on a loaded machine.
const TIMEOUT = 180_000

interface Packed {
  name: string
  filename: string
  files: { path: string }[]
}

let work: string
let packed: Packed[] = []

function run(cmd: string, args: string[], cwd: string): string {
  try {
    return execFileSync(cmd, args, { cwd, encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'] })
  } catch (err) {
    const { stdout, stderr } = err as { stdout?: string; stderr?: string }
    throw new Error(`${cmd} ${args.join(' ')} failed in ${cwd}:\n${stderr ?? ''}${stdout ?? ''}`)
  }
}

beforeAll(() => {
  if (PACKAGES.some((p) => !existsSync(join(ROOT, 'packages', p, 'dist', 'index.js')))) run('npm', ['run', 'build'], ROOT)
  work = mkdtempSync(join(tmpdir(), 'lifeline-packaging-'))
  // --ignore-scripts: pack the dist that is there. The packages' `prepack` (tsc -b) would rebuild dist while
  // other test files run processes from it; publishing runs it, this test only checks what goes in the tarball.
  const out = run('npm', ['pack', '--ignore-scripts', '--json', '--pack-destination', work, ...PACKAGES.flatMap((p) => ['-w', `packages/${p}`])], ROOT)
  packed = JSON.parse(out) as Packed[]
  const tarballs = packed.map((p) => join(work, p.filename))
  const playwright = `@playwright/test@${run(process.execPath, ['-p', 'require("@playwright/test/package.json").version'], ROOT).trim()}`

  // A project with no "type" is CommonJS: .js files and `node -e` use require().
  const project = join(work, 'app')
  mkdirSync(project)
  writeFileSync(join(project, 'package.json'), JSON.stringify({ name: 'app', version: '1.0.0', private: true }))
  // The same @playwright/test the workspace has, so it comes from the npm cache; /testing needs it as a peer.
  run('npm', ['install', '--no-audit', '--no-fund', '--prefer-offline', '--ignore-scripts', ...tarballs, playwright], project)
}, TIMEOUT)

afterAll(() => {
  if (work) rmSync(work, { recursive: true, force: true })
})

describe('npm pack', () => {
  it.each(PACKAGES)('@lifeline/%s carries its README, LICENSE and dist, and no .tsbuildinfo', (pkg) => {
    const tarball = packed.find((p) => p.name === `@lifeline/${pkg}`)
    expect(tarball, `npm pack printed no @lifeline/${pkg}`).toBeDefined()
    const paths = tarball!.files.map((f) => f.path)
    const required = ['package.json', 'README.md', 'LICENSE', 'dist/index.js', 'dist/index.d.ts']
    if (pkg === 'devserver') required.push('bin/lifeline.js', 'dist/testing/index.js', 'dist/testing/index.d.ts', 'dist/testing/ledger.js')
    expect.soft(required.filter((p) => !paths.includes(p)), 'missing from the tarball').toEqual([])
    expect(paths.filter((p) => p.endsWith('.tsbuildinfo')), 'build state in the tarball').toEqual([])
  })

  it.each(PACKAGES)("@lifeline/%s's LICENSE is the repository's", (pkg) => {
    // npm only packs a LICENSE from the package's own folder, so each keeps a copy; this keeps the copies equal.
    expect(readFileSync(join(ROOT, 'packages', pkg, 'LICENSE'), 'utf8')).toBe(readFileSync(join(ROOT, 'LICENSE'), 'utf8'))
  })
})

describe('an installed project', () => {
  // Each entry, and a few names it must export: [specifier, expression, expected].
  const CHECKS: [string, string, unknown][] = [
    ['@lifeline/protocol', 'typeof m.decodeClientFrame', 'function'],
    ['@lifeline/protocol', 'm.ErrorCode.OUTBOX_FULL', 'OUTBOX_FULL'],
    ['@lifeline/sdk', 'typeof m.createClient', 'function'],
    ['@lifeline/sdk', 'm.ErrorCode.OUTBOX_FULL', 'OUTBOX_FULL'],
    ['@lifeline/devserver', 'typeof m.startCluster', 'function'],
    ['@lifeline/devserver', 'typeof m.createNode', 'function'],
    ['@lifeline/devserver/testing', 'typeof m.test', 'function'],
    ['@lifeline/devserver/testing', 'typeof m.nodeOfPage', 'function'],
    ['@lifeline/devserver/testing', 'typeof m.Ledger', 'function'],
    // The ledger alone, for tests without Playwright.
    ['@lifeline/devserver/testing/ledger', 'typeof m.Ledger', 'function'],
  ]
  const specs = [...new Set(CHECKS.map(([spec]) => spec))]
  // One line per check; a failed require() is recorded with its message, so the diff names every entry that broke.
  const push = (m: string, [spec, expr]: [string, string, unknown]): string =>
    `try { const m = ${m}; out.push([${JSON.stringify(spec)}, ${JSON.stringify(expr)}, ${expr}]) } ` +
    `catch (e) { out.push([${JSON.stringify(spec)}, ${JSON.stringify(expr)}, e.code + ': ' + e.message.split('\\n')[0]]) }`

  it('can require() every entry from CommonJS', () => {
    const script = ['const out = []', ...CHECKS.map((c) => push(`require(${JSON.stringify(c[0])})`, c)), 'console.log(JSON.stringify(out))']
    expect(JSON.parse(run(process.execPath, ['-e', script.join('\n')], join(work, 'app')))).toEqual(CHECKS)
  }, TIMEOUT)

  it('can import every entry from ESM', () => {
    const file = join(work, 'app', 'check.mjs')
    const script = [
      ...specs.map((spec, i) => `import * as m${i} from ${JSON.stringify(spec)}`),
      'const out = []',
      ...CHECKS.map((c) => push(`m${specs.indexOf(c[0])}`, c)),
      'console.log(JSON.stringify(out))',
    ]
    writeFileSync(file, script.join('\n'))
    expect(JSON.parse(run(process.execPath, [file], join(work, 'app')))).toEqual(CHECKS)
  }, TIMEOUT)
})
