// The README's React snippet, mounted, answered, then unmounted.
import { useEffect, useState } from 'react';
import { createRoot } from 'react-dom/client';
import init, { NpsWidget } from 'nps-widget';

export function Nps({ user }) {
  useEffect(() => {
    let nps;
    let cancelled = false;
    init().then(() => {
      if (cancelled) {
        return;
      }
      nps = NpsWidget.create({ endpoint: '/v1/responses', product: 'Acme', locale: 'fr', force: true,
                               user: { id: user.id, account_id: user.accountId } });
      window.started = true;
    });
    return () => {
      cancelled = true;
      nps?.destroy();
    };
  }, [user.id]);
  return null;
}

function App() {
  const [shown, setShown] = useState(true);
  return (
    <>
      <button type="button" onClick={() => setShown(false)}>Unmount</button>
      {shown && <Nps user={{ id: 'u_react', accountId: 'acct_react' }} />}
    </>
  );
}

createRoot(document.getElementById('root')).render(<App />);
