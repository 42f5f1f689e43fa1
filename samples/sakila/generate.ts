// Sakila's schema (samples/sakila/*.sql) filled with deterministic rows of its shape: at scale 1,
// Sakila's own counts (16,044 rentals, 16,049 payments, 5,462 film_actor rows); smaller scales
// shrink the large tables for tests.
import { readFileSync } from 'node:fs'
import { join } from 'node:path'
import Database from 'better-sqlite3'
import mysql from 'mysql2/promise'

type Value = string | number | boolean | null | Buffer | { geometry: string }
type Rows = Record<string, Record<string, Value>[]>

const updated = '2006-02-15 04:34:33'
const ratings = ['G', 'PG', 'PG-13', 'R', 'NC-17']
const features = ['Trailers', 'Commentaries', 'Deleted Scenes', 'Behind the Scenes']
const words = ['ACADEMY', 'DINOSAUR', 'ACE', 'GOLDFINGER', 'ADAPTATION', 'HOLES', 'AFFAIR', 'PREJUDICE', 'AFRICAN', 'EGG', 'AGENT', 'TRUMAN']
const names = ['PENELOPE', 'NICK', 'ED', 'JENNIFER', 'JOHNNY', 'BETTE', 'GRACE', 'MATTHEW', 'JOE', 'CHRISTIAN', 'ZERO', 'KARL']
const surnames = ['GUINESS', 'WAHLBERG', 'CHASE', 'DAVIS', 'LOLLOBRIGIDA', 'NICHOLSON', 'MOSTEL', 'JOHANSSON', 'SWANK', 'GABLE', "O'KEEFE", 'BERRY']
const at = (base: number, minutes: number) => new Date(Date.UTC(2005, 4, 24) + (base + minutes) * 60_000).toISOString().slice(0, 19).replace('T', ' ')

/** The rows of every table at `scale` (1: Sakila's counts). */
export function sakilaRows(scale = 1): Rows {
  const n = (full: number) => Math.max(1, Math.round(full * scale))
  const rows: Rows = {}
  rows.language = ['English', 'Italian', 'Japanese', 'Mandarin', 'French', 'German'].map((name, i) => ({ language_id: i + 1, name, last_update: updated }))
  rows.country = Array.from({ length: 109 }, (_, i) => ({ country_id: i + 1, country: `Country ${i + 1}`, last_update: updated }))
  rows.city = Array.from({ length: 600 }, (_, i) => ({ city_id: i + 1, city: `City ${i + 1}`, country_id: (i % 109) + 1, last_update: updated }))
  rows.address = Array.from({ length: 603 }, (_, i) => ({
    address_id: i + 1,
    address: `${i + 1} ${words[i % words.length]} Street`,
    address2: i % 3 ? '' : null,
    district: `District ${i % 50}`,
    city_id: (i % 600) + 1,
    postal_code: i % 7 ? String(10000 + i * 17) : null,
    phone: String(140000000000 + i * 7919),
    location: { geometry: `POINT(${(i * 0.37) % 180} ${(i * 0.11) % 90})` },
    last_update: updated,
  }))
  rows.category = Array.from({ length: 16 }, (_, i) => ({ category_id: i + 1, name: `Category ${i + 1}`, last_update: updated }))
  rows.actor = Array.from({ length: 200 }, (_, i) => ({ actor_id: i + 1, first_name: names[i % 12]!, last_name: surnames[(i * 5) % 12]!, last_update: updated }))
  rows.film = Array.from({ length: 1000 }, (_, i) => ({
    film_id: i + 1,
    title: `${words[i % 12]} ${words[(i * 7 + 3) % 12]} ${i + 1}`,
    description: `A ${words[(i * 3) % 12]!.toLowerCase()} story of a ${words[(i * 5) % 12]!.toLowerCase()}, in ${i % 5 ? 'a galaxy' : 'the "Canadian Rockies"'}`,
    release_year: 2006,
    language_id: 1,
    original_language_id: i % 10 === 0 ? 2 : null,
    rental_duration: (i % 5) + 3,
    rental_rate: ['0.99', '2.99', '4.99'][i % 3]!,
    length: 46 + (i % 140),
    replacement_cost: `${9 + (i % 21)}.99`,
    rating: ratings[i % 5]!,
    special_features: features.filter((_, k) => (i >> k) & 1).join(',') || null,
    last_update: updated,
  }))
  rows.film_actor = []
  for (let f = 1; rows.film_actor.length < n(5462) && f <= 1000; f++) {
    const cast = 5 + (f % 2) - (f % 7 === 0 ? 1 : 0)
    for (let k = 0; k < cast && rows.film_actor.length < n(5462); k++) rows.film_actor.push({ actor_id: ((f * 7 + k * 13) % 200) + 1, film_id: f, last_update: updated })
  }
  rows.film_category = rows.film.map((f, i) => ({ film_id: f.film_id!, category_id: (i % 16) + 1, last_update: updated }))
  rows.film_text = rows.film.map((f) => ({ film_id: f.film_id!, title: f.title!, description: f.description! }))
  rows.staff = [1, 2].map((id) => ({
    staff_id: id,
    first_name: ['Mike', 'Jon'][id - 1]!,
    last_name: ['Hillyer', 'Stephens'][id - 1]!,
    address_id: id + 2,
    picture: id === 1 ? Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a, 0, 0, 0, 0x0d]) : null,
    email: `staff${id}@sakilastaff.com`,
    store_id: id,
    active: true,
    username: ['Mike', 'Jon'][id - 1]!,
    password: '8cb2237d0679ca88db6464eac60da96345513964',
    last_update: updated,
  }))
  rows.store = [1, 2].map((id) => ({ store_id: id, manager_staff_id: id, address_id: id, last_update: updated }))
  rows.customer = Array.from({ length: n(599) }, (_, i) => ({
    customer_id: i + 1,
    store_id: (i % 2) + 1,
    first_name: names[(i * 7) % 12]!,
    last_name: `${surnames[i % 12]} ${i + 1}`,
    email: `customer${i + 1}@sakilacustomer.org`,
    address_id: (i % 599) + 5,
    active: i % 40 !== 0,
    create_date: at(0, -i * 60),
    last_update: updated,
  }))
  rows.inventory = Array.from({ length: n(4581) }, (_, i) => ({ inventory_id: i + 1, film_id: (i % 1000) + 1, store_id: (i % 2) + 1, last_update: updated }))
  rows.rental = Array.from({ length: n(16044) }, (_, i) => ({
    rental_id: i + 1,
    rental_date: at(i * 3, 0),
    inventory_id: ((i * 31) % rows.inventory!.length) + 1,
    customer_id: ((i * 17) % rows.customer!.length) + 1,
    return_date: i % 90 === 0 ? null : at(i * 3, 60 * 24 * ((i % 9) + 1)),
    staff_id: (i % 2) + 1,
    last_update: updated,
  }))
  rows.payment = Array.from({ length: rows.rental.length + 5 }, (_, i) => ({
    payment_id: i + 1,
    customer_id: ((i * 17) % rows.customer!.length) + 1,
    staff_id: (i % 2) + 1,
    rental_id: i < rows.rental!.length ? i + 1 : null,
    amount: ['0.99', '2.99', '4.99', '5.99', '10.99'][i % 5]!,
    payment_date: at(i * 3, 5),
    last_update: updated,
  }))
  return rows
}

// Parents first, as a loader without deferred checks would need (the store ⇄ staff cycle is why the
// loaders turn foreign-key checks off).
const order = ['language', 'country', 'city', 'address', 'category', 'actor', 'film', 'film_actor', 'film_category', 'film_text', 'staff', 'store', 'customer', 'inventory', 'rental', 'payment']

const statements = (file: string) =>
  readFileSync(join(import.meta.dirname, file), 'utf8')
    .replace(/^--.*$/gm, '')
    .split(/;\s*\n(?=\s*(?:CREATE|SET|INSERT|$))/)
    .map((s) => s.trim())
    .filter(Boolean)

/** Creates Sakila in the MySQL database of `url` (which must exist and be empty) and fills it. */
export async function loadMysql(url: string, scale = 1): Promise<void> {
  const conn = await mysql.createConnection({ uri: url, charset: 'utf8mb4' })
  try {
    for (const s of statements('mysql-schema.sql')) await conn.query(s)
    await conn.query('SET foreign_key_checks = 0')
    const rows = sakilaRows(scale)
    for (const table of order) {
      const list = rows[table]!
      const columns = Object.keys(list[0]!)
      for (let i = 0; i < list.length; i += 1000) {
        const values = list.slice(i, i + 1000).map((r) => `(${columns.map((c) => mysqlLiteral(conn, r[c]!)).join(', ')})`)
        await conn.query(`INSERT INTO ${table} (${columns.join(', ')}) VALUES ${values.join(', ')}`)
      }
    }
    await conn.query('SET foreign_key_checks = 1')
  } finally {
    await conn.end()
  }
}

function mysqlLiteral(conn: mysql.Connection, v: Value): string {
  if (v !== null && typeof v === 'object' && 'geometry' in v) return `ST_GeomFromText('${v.geometry}')`
  return conn.escape(v)
}

/** Creates Sakila in a new SQLite file and fills it (no geometry column: the SQLite schema has none). */
export function loadSqlite(file: string, scale = 1): void {
  const db = new Database(file)
  try {
    db.pragma('foreign_keys = OFF')
    db.exec(readFileSync(join(import.meta.dirname, 'sqlite-schema.sql'), 'utf8'))
    const rows = sakilaRows(scale)
    db.transaction(() => {
      for (const table of order) {
        const list = rows[table]!
        const columns = Object.keys(list[0]!).filter((c) => c !== 'location')
        const insert = db.prepare(`INSERT INTO ${table} (${columns.join(', ')}) VALUES (${columns.map(() => '?').join(', ')})`)
        for (const r of list) insert.run(columns.map((c) => (typeof r[c] === 'boolean' ? (r[c] ? 1 : 0) : r[c])))
      }
    })()
  } finally {
    db.close()
  }
}
