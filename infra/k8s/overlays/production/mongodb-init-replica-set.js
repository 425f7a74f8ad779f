// Initiates the replica set of the production overlay's MongoDB StatefulSet
// and adds its members. Idempotent: run again (a retried pod, the Job applied
// again on the next deploy) it finds the set initiated and every member in
// it, and changes nothing.
//
// Run by mongosh in the Job mongodb-init-replica-set (mongodb-replica-set.yaml),
// connected straight to the first member as the root user. REPLICA_SET (the
// StatefulSet's --replSet) and MEMBERS (host:port of each pod, comma
// separated, the first one first) come from the Job's environment.
/* global rs, db, print, sleep, Mongo -- mongosh's shell API */
const replicaSet = process.env.REPLICA_SET;
const members = process.env.MEMBERS.split(',');

/** rs.status(), or undefined before the set is initiated. */
function replicaSetStatus() {
  try {
    return rs.status();
  } catch (err) {
    if (err.codeName === 'NotYetInitialized') return undefined;
    throw err;
  }
}

/** Runs `fn` until it stops failing with a "try again" error of a reconfiguration, at most `tries` times. */
function retried(fn, tries) {
  for (let i = 1; ; i++) {
    try {
      return fn();
    } catch (err) {
      const again = ['ConfigurationInProgress', 'CurrentConfigNotCommittedYet', 'NotWritablePrimary', 'NotYetInitialized'];
      if (i >= tries || !again.includes(err.codeName)) throw err;
      print(`${err.codeName}: trying again in 2 s`);
      sleep(2000);
    }
  }
}

if (replicaSetStatus() === undefined) {
  // The first member only: each member's entrypoint made a root user, so the
  // others have data, and replSetInitiate refuses members that have data.
  // Added below, they drop it and copy the primary's (initial sync).
  rs.initiate({ _id: replicaSet, members: [{ _id: 0, host: members[0] }] });
  print(`initiated ${replicaSet} with ${members[0]}`);
} else {
  print(`${replicaSet} is already initiated`);
}

/** The admin database on the current primary (this member right after rs.initiate). */
function primaryAdmin() {
  const hello = db.hello();
  if (hello.isWritablePrimary) return db.getSiblingDB('admin');
  if (!hello.primary) {
    const err = new Error('no primary yet');
    err.codeName = 'NotWritablePrimary';
    throw err;
  }
  const user = encodeURIComponent(process.env.MONGO_ROOT_USERNAME);
  const password = encodeURIComponent(process.env.MONGO_ROOT_PASSWORD);
  return new Mongo(`mongodb://${user}:${password}@${hello.primary}/?authSource=admin&directConnection=true`).getDB('admin');
}

for (const host of members) {
  const added = retried(() => {
    const admin = primaryAdmin();
    const config = admin.adminCommand({ replSetGetConfig: 1 }).config;
    if (config.members.some((m) => m.host === host)) return false;
    // One member per reconfiguration (MongoDB adds one voting member at a time).
    config.members.push({ _id: Math.max(...config.members.map((m) => m._id)) + 1, host });
    config.version += 1;
    admin.adminCommand({ replSetReconfig: config });
    return true;
  }, 90);
  print(added ? `added ${host}` : `${host} is a member`);
}
