// What fn() throws, for tests that look at an error's class, message or fields.
function thrown(fn) {
  try {
    fn();
  } catch (err) {
    return err;
  }
  throw new Error('expected a throw');
}

module.exports = { thrown };
