/**
 * @lifeline/react: React 18 and 19 bindings for @lifeline/sdk, in their own package so the SDK's bundle holds
 * nothing of React. See README.md.
 */
export { LifelineProvider, type LifelineProviderProps } from './provider.js'
export { useTopic, useConnectionState, usePublish, usePresence, useLifelineClient, MAX_FAILED, type UseTopicOptions, type PublishState, type FailedPublish, type PresenceState } from './hooks.js'
export { DEFAULT_TOPIC_LIMIT, type TopicState, type TopicStatus } from './hub.js'
