// The legacy "users" collection the MongoDB templates are written for: the seeds' users table as
// documents. Run it with mongosh against your database:  mongosh "$DB_CONNECTION_URI" schema.js
//
// Field names follow the SQL templates (snake_case); `_id` is the ObjectId whose hex string
// becomes the profile's id (and so the OIDC "sub"). `password` is a bcrypt hash. `birthdate` is a
// "YYYY-MM-DD" string, since MongoDB has no date-only type.

db.createCollection('users', {
  validator: {
    $jsonSchema: {
      bsonType: 'object',
      properties: {
        email: { bsonType: ['string', 'null'] },
        phone: { bsonType: ['string', 'null'] },
        username: { bsonType: ['string', 'null'] },
        password: { bsonType: ['string', 'null'], description: 'bcrypt hash' },
        name: { bsonType: ['string', 'null'] },
        nickname: { bsonType: ['string', 'null'] },
        photo: { bsonType: ['string', 'null'] },
        token: { bsonType: ['string', 'null'] },
        email_verified: { bsonType: 'bool' },
        phone_verified: { bsonType: 'bool' },
        logins_count: { bsonType: ['int', 'long'] },
        last_ip: { bsonType: ['string', 'null'] },
        gender: { bsonType: ['string', 'null'] },
        address: { bsonType: ['string', 'null'] },
        company: { bsonType: ['string', 'null'] },
        birthdate: { bsonType: ['string', 'null'], pattern: '^[0-9]{4}-[0-9]{2}-[0-9]{2}$' },
        website: { bsonType: ['string', 'null'] },
        created_at: { bsonType: 'date' },
        updated_at: { bsonType: 'date' },
      },
    },
  },
});

// Uniqueness is enforced here, not in the scripts: two concurrent createUser calls for one email
// cannot both succeed (the insert fails with E11000). Strength 2 makes the comparison
// case-insensitive; the partial filter lets many users have no phone (or no username).
const caseInsensitive = { locale: 'en', strength: 2 };
db.users.createIndex({ email: 1 }, { unique: true, collation: caseInsensitive, partialFilterExpression: { email: { $type: 'string' } } });
db.users.createIndex({ username: 1 }, { unique: true, collation: caseInsensitive, partialFilterExpression: { username: { $type: 'string' } } });
db.users.createIndex({ phone: 1 }, { unique: true, partialFilterExpression: { phone: { $type: 'string' } } });

// A sample document (password: "alice-password").
db.users.insertOne({
  email: 'alice@example.com',
  phone: '+8613800000001',
  username: 'alice',
  password: '$2b$10$EdA2BuXQhAraI7WwUGW7AOZhD/DMqium0HGeqyqKKZdH0snG1GlES',
  name: 'Alice Liddell',
  nickname: 'ally',
  photo: 'https://example.com/alice.png',
  token: null,
  email_verified: true,
  phone_verified: false,
  logins_count: 3,
  last_ip: '198.51.100.1',
  gender: 'F',
  address: 'Rabbit Hole 1, Wonderland',
  company: 'Wonderland Ltd',
  birthdate: '1990-04-01',
  website: 'https://alice.example.com',
  created_at: new Date('2019-05-01T08:00:00Z'),
  updated_at: new Date('2024-01-15T10:30:00Z'),
});
