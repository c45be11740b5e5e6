// The built-in pages: login, status, logged out. Plain HTML with no script
// and no outside resources, so they work before login and on any phone.

export function escapeHtml(s: string): string {
  return s.replace(/[&<>"']/g, (c) => ({ '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;' })[c] ?? c);
}

function page(title: string, body: string): string {
  return `<!DOCTYPE html>
<html lang="en"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width, initial-scale=1">
<title>${escapeHtml(title)}</title>
<style>body{font-family:sans-serif;max-width:24em;margin:2em auto;padding:0 1em}label,input,button{display:block;width:100%;margin:.4em 0}
input,button{padding:.5em;font-size:1em}.error{color:#a00}</style></head>
<body><h1>${escapeHtml(title)}</h1>
${body}
</body></html>
`;
}

export function loginPage(o: { venue: string; userurl: string | undefined; error?: string; action: string }): string {
  const error = o.error === undefined ? '' : `<p class="error" id="error">${escapeHtml(o.error)}</p>\n`;
  return page(
    `${o.venue}: log in`,
    `${error}<form method="post" action="${escapeHtml(o.action)}" id="login">
<label for="username">User name</label><input id="username" name="username" autocomplete="username" required>
<label for="password">Password</label><input id="password" name="password" type="password" autocomplete="current-password" required>
<input type="hidden" name="userurl" value="${escapeHtml(o.userurl ?? '')}">
<button type="submit" id="submit">Log in</button>
</form>`,
  );
}

export function statusPage(o: { venue: string; userName: string; seconds: number; bytesIn: bigint; bytesOut: bigint; secondsLeft: number | undefined; logout: string }): string {
  const left = o.secondsLeft === undefined ? '' : `<p>Time left: <span id="left">${String(o.secondsLeft)}</span> s</p>`;
  return page(
    `${o.venue}: online`,
    `<p id="status">You are online as <b>${escapeHtml(o.userName)}</b>.</p>
<p>Online for ${String(o.seconds)} s; received ${String(o.bytesOut)} bytes, sent ${String(o.bytesIn)} bytes.</p>
${left}<form method="post" action="${escapeHtml(o.logout)}"><button type="submit" id="logout">Log out</button></form>`,
  );
}

export function messagePage(venue: string, title: string, text: string): string {
  return page(`${venue}: ${title}`, `<p id="message">${escapeHtml(text)}</p>`);
}
