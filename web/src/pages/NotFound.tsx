export default function NotFound() {
  return (
    <section class="page narrow">
      <h1>Page not found</h1>
      <p>There is nothing at this address.</p>
      <p>
        <a href="/channels">Go to the channels</a>
      </p>
    </section>
  );
}
