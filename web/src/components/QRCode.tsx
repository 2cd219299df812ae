import { useEffect, useState } from 'preact/hooks';

/**
 * A QR code drawn as SVG in the browser: the otpauth:// secret never
 * leaves the page for an image service. The encoder (uqr) is loaded only
 * when a code is shown.
 */
export function QRCode({ text, label }: { text: string; label: string }) {
  const [path, setPath] = useState<{ d: string; size: number } | null>(null);
  useEffect(() => {
    let live = true;
    void import('uqr').then(({ encode }) => {
      if (!live) return;
      const { data, size } = encode(text, { ecc: 'M', border: 2 });
      let d = '';
      data.forEach((row, y) =>
        row.forEach((dark, x) => {
          if (dark) d += `M${x} ${y}h1v1h-1z`;
        }),
      );
      setPath({ d, size });
    });
    return () => {
      live = false;
    };
  }, [text]);
  if (!path) return <div class="qr placeholder" aria-busy="true" />;
  return (
    <svg class="qr" viewBox={`0 0 ${path.size} ${path.size}`} role="img" aria-label={label} shape-rendering="crispEdges">
      <rect width={path.size} height={path.size} fill="#fff" />
      <path d={path.d} fill="#000" />
    </svg>
  );
}
