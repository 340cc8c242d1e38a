/**
 * The most a legacy hash may cost to verify. Above these a hash is refused when it is imported
 * (with the user named in the report), never accepted and left to pin a core at sign-in. Each is
 * above what the systems that produce them use by default (noted), so real databases pass.
 */
export const LIMITS = {
  /** bcrypt's log2 cost: PHP and Django use 10–12; 15 takes ~2 s. */
  bcryptCost: 15,
  /** PBKDF2 iterations: Django 5 uses 870,000–1,000,000 (SHA-256), ASP.NET Identity v3 10,000–100,000. */
  pbkdf2Iterations: 2_000_000,
  /** argon2: memory in KiB (256 MiB), passes, lanes. */
  argon2MemoryKiB: 262_144,
  argon2Passes: 16,
  argon2Lanes: 16,
  /** scrypt: log2 N (Firebase 14, passlib 16), r, p, and the memory 128·N·r they need together. */
  scryptLogN: 20,
  scryptR: 32,
  scryptP: 16,
  scryptMemoryBytes: 256 * 1024 * 1024,
  /** sha256-crypt / sha512-crypt rounds: glibc 5,000, passlib 535,000 / 656,000. */
  shaCryptRounds: 1_000_000,
  /** phpass log2 iterations: WordPress 8, phpBB 11, Drupal 7 15, passlib 19. */
  phpassLog2: 20,
} as const;
