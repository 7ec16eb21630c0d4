/** The devserver's error vocabulary (src/errors.ts): the codes are a contract, each has a status, none is a protocol code. */
import { describe, expect, it } from 'vitest'
import { CloseCode, ErrorCode } from '@lifeline/protocol'
import { ClusterErrorCode, ERROR_STATUS, SHARED_WITH_PROTOCOL } from '../src/errors.js'

describe('error codes', () => {
  it('are exactly the published ones, each its own name', () => {
    // Scripts and dashboards match on these strings: renaming or dropping one breaks them.
    expect(Object.keys(ClusterErrorCode).sort()).toEqual(
      [
        'NODE_NOT_FOUND', 'NODE_NOT_RUNNING', 'NODE_START_FAILED', 'NODE_START_TIMEOUT', 'CLUSTER_STOPPED', 'BAD_OPTION',
        'NOT_FOUND', 'METHOD_NOT_ALLOWED', 'FORBIDDEN', 'CROSS_ORIGIN', 'SESSION_NOT_FOUND', 'INTERNAL', 'BAD_REQUEST',
        'HOST_NOT_ALLOWED', 'NO_NODE',
        'API_DISABLED', 'UNAUTHORIZED', 'MESSAGE_TOO_BIG', 'DATA_TOO_DEEP', 'RESERVED_TOPIC', 'STORE_UNAVAILABLE', 'IDEMPOTENCY_CONFLICT',
      ].sort(),
    )
    for (const [name, code] of Object.entries(ClusterErrorCode)) expect(code).toBe(name)
  })

  it('each answers with a 4xx or 5xx status', () => {
    for (const status of Object.values(ERROR_STATUS)) expect(status >= 400 && status < 600).toBe(true)
    expect(ERROR_STATUS).toMatchObject({ NODE_NOT_FOUND: 404, NODE_NOT_RUNNING: 409, NO_NODE: 503, BAD_REQUEST: 400, INTERNAL: 500 })
  })

  it('share a name with a protocol code only where it means the same thing (the listed ones), so a code read anywhere means one thing', () => {
    const protocol = new Set([...Object.keys(ErrorCode), ...Object.keys(CloseCode)])
    expect(Object.keys(ClusterErrorCode).filter((code) => protocol.has(code)).sort()).toEqual([...SHARED_WITH_PROTOCOL].sort())
    // Every shared one is a protocol error code proper (sent in `error` frames), not only a close code.
    for (const code of SHARED_WITH_PROTOCOL) expect(ErrorCode).toHaveProperty(code, code)
  })
})
