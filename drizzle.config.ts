import { defineConfig } from 'drizzle-kit';

// The migrations in drizzle/ are generated from the exported default table:
// `npm run db:generate`. Never edit them by hand.
export default defineConfig({
  dialect: 'postgresql',
  schema: './src/schema.ts',
  out: './drizzle',
  ...(process.env.DATABASE_URL ? { dbCredentials: { url: process.env.DATABASE_URL } } : {}),
});
