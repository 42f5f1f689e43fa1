import type { ConnectionOptions } from '../config.js'
import { PostgresSink } from '../../sinks/postgres.js'
import { PostgresSource } from '../../sources/postgres.js'
import { pgConfig } from './postgres.js'

export function createSource(connection: string | ConnectionOptions): PostgresSource {
  return new PostgresSource(pgConfig(connection))
}

export function createSink(connection: string | ConnectionOptions): PostgresSink {
  return new PostgresSink(pgConfig(connection))
}
