/**
 * <LifelineProvider>: one Lifeline client for the components below it. Pass the client you made (`client`), or
 * the options to make one (`options`, read once, at mount: to change them, remount the provider with a `key`).
 * With `options` the provider owns the client: it is made in an effect, so never during server rendering, at
 * most once however StrictMode mounts it, and closed when the provider unmounts.
 */
import { createContext, createElement, useContext, useEffect, useState, type ReactNode } from 'react'
import type { ClientOptions, LifelineClient } from '@lifeline/sdk'
import { Hub } from './hub.js'

const Context = createContext<Hub | null>(null)

export type LifelineProviderProps = { children?: ReactNode } & (
  | { client: LifelineClient; options?: undefined }
  | { options: ClientOptions; client?: undefined }
)

export function LifelineProvider(props: LifelineProviderProps): ReactNode {
  // One hub per provider for its whole life (the initializer may run twice under StrictMode: it makes nothing).
  const [hub] = useState(() => new Hub(props.client, props.options))
  useEffect(() => {
    hub.use()
    return () => hub.unuse()
  }, [hub])
  return createElement(Context.Provider, { value: hub }, props.children)
}

/** The provider's hub; throws (a programming error) outside one. */
export function useHub(): Hub {
  const hub = useContext(Context)
  if (!hub) throw new Error('@lifeline/react: this hook must be used inside <LifelineProvider>')
  return hub
}
