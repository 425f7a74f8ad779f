/**
 * Vitest global setup (placeholder until the local-infra module lands):
 * uses MONGODB_URI and REDIS_URL from the environment.
 */
export default function setup(): void {
  if (!process.env.MONGODB_URI || !process.env.REDIS_URL) {
    throw new Error('set MONGODB_URI and REDIS_URL');
  }
}
