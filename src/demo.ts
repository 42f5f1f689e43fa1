import { existsSync, mkdirSync, renameSync, rmSync } from 'node:fs'
import { dirname } from 'node:path'
import Database from 'better-sqlite3'

const firstNames = ['Ada', 'José', 'Zoë', 'Li', 'Mary Ann', 'Søren', 'Chloé', 'Omar', 'Priya', 'Jürgen', 'Ana', 'Kenji', 'Fatima', 'Łukasz', 'Emma']
const lastNames = ["O'Brien", 'Núñez', 'Müller', 'Smith', 'Nguyễn', 'Kowalski', 'García', 'Ivanova', 'Tanaka', 'Dubois', 'Rossi', 'Andersson', 'Öztürk', 'Brown']
const domains = ['Example.COM', 'mail.example.org', 'Legacy.Net', 'corp.example']
const statuses = ['active', 'active', 'active', 'inactive', 'suspended', 'pending']

/** A small seeded PRNG (mulberry32): the same seed gives the same table on every machine. */
export function random(seed: number): () => number {
  let a = seed >>> 0
  return () => {
    a = (a + 0x6d2b79f5) >>> 0
    let t = a
    t = Math.imul(t ^ (t >>> 15), t | 1)
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61)
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296
  }
}

export interface LegacyUser {
  id: number
  first_name: string
  last_name: string
  email: string
  status: string
  created_at: string
}

/** Deterministic legacy users: untrimmed names, mixed-case emails, a few statuses. */
export function* legacyUsers(count: number, seed = 42): Generator<LegacyUser> {
  const next = random(seed)
  const pick = <T>(list: readonly T[]): T => list[Math.floor(next() * list.length)]!
  const start = Date.UTC(2015, 0, 1)
  const span = Date.UTC(2025, 0, 1) - start
  for (let id = 1; id <= count; id++) {
    const first = pick(firstNames)
    const last = pick(lastNames)
    const pad = next() < 0.1 ? '  ' : ''
    yield {
      id,
      first_name: pad + first,
      last_name: last + pad,
      email: `${first.normalize('NFD').replace(/[^A-Za-z]/g, '')}.${id}@${pick(domains)}`,
      status: pick(statuses),
      created_at: new Date(start + Math.floor(next() * span)).toISOString().replace('T', ' ').slice(0, 19),
    }
  }
}

/**
 * Creates the demo source `file` with a `users` table of `count` legacy users unless it exists;
 * returns its URL. Written to a temp file and renamed, so an interrupted creation leaves nothing.
 */
export function ensureLegacyUsers(file: string, count = 100_000): string {
  if (!existsSync(file)) {
    mkdirSync(dirname(file), { recursive: true })
    const temp = `${file}.tmp-${process.pid}`
    rmSync(temp, { force: true })
    const db = new Database(temp)
    db.exec(
      'CREATE TABLE users (id INTEGER PRIMARY KEY, first_name TEXT NOT NULL, last_name TEXT NOT NULL, email TEXT NOT NULL, status TEXT NOT NULL, created_at DATETIME NOT NULL)',
    )
    const insert = db.prepare('INSERT INTO users VALUES (@id, @first_name, @last_name, @email, @status, @created_at)')
    db.transaction(() => {
      for (const user of legacyUsers(count)) insert.run(user)
    })()
    db.close()
    renameSync(temp, file)
  }
  return `sqlite:${file}`
}

/**
 * Creates the demo shop `file` (customers, orders, payments; deterministic) unless it exists;
 * returns its URL. Orders point at customers and payments at orders, as the multi-table demo needs.
 */
export function ensureShop(file: string, customers = 2000): string {
  if (existsSync(file)) return `sqlite:${file}`
  mkdirSync(dirname(file), { recursive: true })
  const temp = `${file}.tmp-${process.pid}`
  rmSync(temp, { force: true })
  const db = new Database(temp)
  db.exec(`
    CREATE TABLE customers (id INTEGER PRIMARY KEY, name TEXT NOT NULL, email TEXT NOT NULL, created_at DATETIME NOT NULL);
    CREATE TABLE orders (id INTEGER PRIMARY KEY, customer_id INTEGER NOT NULL, status TEXT NOT NULL, total_cents INTEGER NOT NULL, ordered_at DATETIME NOT NULL);
    CREATE TABLE payments (id INTEGER PRIMARY KEY, order_id INTEGER NOT NULL, method TEXT NOT NULL, amount_cents INTEGER NOT NULL);
  `)
  const next = random(7)
  const users = legacyUsers(customers, 7)
  const customer = db.prepare('INSERT INTO customers VALUES (?, ?, ?, ?)')
  const order = db.prepare('INSERT INTO orders VALUES (?, ?, ?, ?, ?)')
  const payment = db.prepare('INSERT INTO payments VALUES (?, ?, ?, ?)')
  db.transaction(() => {
    let orderId = 0
    let paymentId = 0
    for (const u of users) {
      customer.run(u.id, `${u.first_name.trim()} ${u.last_name.trim()}`, u.email, u.created_at)
      for (let i = Math.floor(next() * 6); i > 0; i--) {
        const status = ['placed', 'paid', 'shipped', 'cancelled'][Math.floor(next() * 4)]!
        const total = 500 + Math.floor(next() * 50_000)
        order.run(++orderId, u.id, status, total, u.created_at)
        if (status !== 'placed' && status !== 'cancelled') payment.run(++paymentId, orderId, next() < 0.7 ? 'card' : 'transfer', total)
      }
    }
  })()
  db.close()
  renameSync(temp, file)
  return `sqlite:${file}`
}
