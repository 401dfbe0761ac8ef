// The dashboard's few DOM helpers: every value from the database goes in as text
// (textContent), never as markup.

export const $ = (id) => document.getElementById(id);

/// A new `tag` element with `text` as its text and `className`.
export function el(tag, text, className) {
  const element = document.createElement(tag);
  if (text != null) {
    element.textContent = String(text);
  }
  if (className) {
    element.className = className;
  }
  return element;
}

export function button(text, onClick, className) {
  const b = el('button', text, className);
  b.type = 'button';
  b.addEventListener('click', onClick);
  return b;
}

/// A link to one of the dashboard's own views (`#/accounts/acme`).
export function viewLink(text, hash, className) {
  const a = el('a', text, className);
  a.href = hash;
  return a;
}

/// Fills `select` with `options` (`[value, text]` pairs), keeping its current value.
export function fillSelect(select, options) {
  const current = select.value;
  select.replaceChildren(...options.map(([value, text]) => Object.assign(el('option', text), { value })));
  if (options.some(([value]) => value === current)) {
    select.value = current;
  }
}

/// A table row of text cells.
export function row(cells) {
  const tr = el('tr');
  for (const value of cells) {
    tr.append(el('td', value));
  }
  return tr;
}

/// A row of one cell across `columns` saying `text` (an empty table's).
export function emptyRow(text, columns) {
  const tr = el('tr');
  tr.append(Object.assign(el('td', text, 'empty'), { colSpan: columns }));
  return tr;
}

/// Says `message` in the polite live region.
export function announce(message) {
  $('status').textContent = message;
}

/// Saves `blob` as a file called `name`.
export function save(blob, name) {
  const a = el('a');
  a.href = URL.createObjectURL(blob);
  a.download = name;
  document.body.append(a);
  a.click();
  a.remove();
  setTimeout(() => URL.revokeObjectURL(a.href), 1000);
}
