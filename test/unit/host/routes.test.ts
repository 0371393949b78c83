import { parseRoute } from '../../../local/host/routes';

describe('HTTP route templates', () => {
  it('when a path matches literal and parameter segments, then the parameters are returned', () => {
    expect(parseRoute('items/{id}').match('/Items/42')).toEqual({ id: '42' });
  });

  it('when an optional parameter is absent, then the route still matches', () => {
    expect(parseRoute('hello/{name?}').match('/hello')).toEqual({});
  });

  it('when a constraint does not hold, then the route does not match', () => {
    expect(parseRoute('items/{id:int}').match('/items/abc')).toBeUndefined();
  });

  it('when a catch-all ends the template, then it takes the rest of the path', () => {
    expect(parseRoute('files/{*path}').match('/files/a/b%20c.csv')).toEqual({ path: 'a/b c.csv' });
  });

  it('when the path has extra segments, then the route does not match', () => {
    expect(parseRoute('items/{id}').match('/items/1/more')).toBeUndefined();
  });
});
