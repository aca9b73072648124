package store_test

import (
	"fmt"
	"math"
	"math/rand/v2"
	"strings"
	"time"

	"github.com/prometheus/prometheus/model/labels"

	"github.com/cairn-dev/cairn/store"
)

// A deterministic log corpus for TestFootprint, in the proportions of a
// small web shop: nginx access logs, JSON and logfmt application logs, a
// Spring Boot service with multi-line stack traces, and a host's systemd
// journal. Lines carry what real ones carry — client IPs, ids, trace ids,
// durations — and arrive as a Poisson process whose rate follows the time
// of day.

type logStream struct {
	ls   labels.Labels
	rate float64 // entries per second, on average
	line func(r *rand.Rand, t time.Time) string
}

func logStreams() []logStream {
	k8s := func(app, container string, kv ...string) labels.Labels {
		return labels.FromStrings(append([]string{"app", app, "cluster", "prod-eu-1", "container", container, "namespace", "shop"}, kv...)...)
	}
	journal := func(unit string) labels.Labels {
		return labels.FromStrings("host", "node-1.prod.example.com", "job", "systemd-journal", "unit", unit)
	}
	return []logStream{
		{k8s("nginx", "nginx", "pod", "web-6f7c9d8b4-2xkqp"), 1.5, nginxLine},
		{k8s("nginx", "nginx", "pod", "web-6f7c9d8b4-9tzrm"), 1.0, nginxLine},
		{k8s("checkout", "checkout"), 0.8, checkoutLine},
		{k8s("api", "api"), 0.8, apiLine},
		{k8s("billing", "billing"), 0.17, billingLine},
		{journal("sshd.service"), 0.05, sshdLine},
		{journal("cron.service"), 0.02, cronLine},
		{journal("kubelet.service"), 0.1, kubeletLine},
	}
}

// logBatches calls write with every stream's entries in [start, end) ms,
// window ms at a time, all streams of a window in one batch.
func logBatches(start, end, window int64, write func([]store.LogEntry) error) error {
	streams := logStreams()
	r := rand.New(rand.NewPCG(7, 7))
	next := make([]int64, len(streams)) // next entry time, ns
	for i := range next {
		next[i] = start*1e6 + r.Int64N(1e9)
	}
	for w := start; w < end; w += window {
		var batch []store.LogEntry
		for i, s := range streams {
			for t := next[i]; t < (w+window)*1e6; t = next[i] {
				batch = append(batch, store.LogEntry{Tenant: "acme", Stream: s.ls, T: t, Line: s.line(r, time.Unix(0, t).UTC())})
				// Busier in the afternoon than at night.
				hour := float64(t/3_600_000_000_000%24) + 0.5
				rate := s.rate * (1 + 0.6*math.Sin((hour-9)/24*2*math.Pi))
				next[i] += int64(r.ExpFloat64() / rate * 1e9)
			}
		}
		if err := write(batch); err != nil {
			return err
		}
	}
	return nil
}

func pick[T any](r *rand.Rand, xs []T) T { return xs[r.IntN(len(xs))] }

// zipf picks from n items, the first ones much more often.
func zipf(r *rand.Rand, n int) int { return min(n-1, int(r.ExpFloat64()*float64(n)/8)) }

func hexID(r *rand.Rand, n int) string {
	const digits = "0123456789abcdef"
	b := make([]byte, n)
	for i := range b {
		b[i] = digits[r.IntN(16)]
	}
	return string(b)
}

func clientIP(r *rand.Rand) string {
	i := zipf(r, 600)
	switch i % 3 {
	case 0:
		return fmt.Sprintf("203.0.113.%d", i/3%250+1)
	case 1:
		return fmt.Sprintf("198.51.%d.%d", 100+i%7, i/3%250+1)
	}
	return fmt.Sprintf("10.1.%d.%d", i%16, i/3%250+1)
}

var userAgents = []string{
	"Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/119.0.0.0 Safari/537.36",
	"Mozilla/5.0 (Macintosh; Intel Mac OS X 10_15_7) AppleWebKit/605.1.15 (KHTML, like Gecko) Version/17.1 Safari/605.1.15",
	"Mozilla/5.0 (iPhone; CPU iPhone OS 17_1_1 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like Gecko) Version/17.1 Mobile/15E148 Safari/604.1",
	"Mozilla/5.0 (X11; Linux x86_64; rv:109.0) Gecko/20100101 Firefox/119.0",
	"Mozilla/5.0 (Linux; Android 14; Pixel 7) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/119.0.6045.163 Mobile Safari/537.36",
	"Mozilla/5.0 (compatible; Googlebot/2.1; +http://www.google.com/bot.html)",
	"okhttp/4.12.0",
	"curl/8.4.0",
}

func nginxLine(r *rand.Rand, t time.Time) string {
	method, path, status, size := "GET", "", 200, 0
	switch x := r.IntN(100); {
	case x < 30:
		path, size = pick(r, []string{"/static/js/app.3f9c2b1e.js", "/static/css/main.8a1b44c0.css", "/static/js/vendor.77e1f0a2.js", "/favicon.ico"}), 20000+r.IntN(300000)
	case x < 45:
		path, size = fmt.Sprintf("/images/products/%d.webp", 1000+zipf(r, 5000)), 8000+r.IntN(90000)
	case x < 65:
		path, size = fmt.Sprintf("/api/v1/products?page=%d&size=20&sort=%s", 1+zipf(r, 30), pick(r, []string{"price", "popularity", "newest"})), 4000+r.IntN(12000)
	case x < 78:
		path, size = fmt.Sprintf("/api/v1/products/%d", 1000+zipf(r, 5000)), 900+r.IntN(4000)
	case x < 88:
		method = pick(r, []string{"GET", "POST", "POST", "PUT", "DELETE"})
		path, size = fmt.Sprintf("/api/v1/cart/items/%d", 1000+zipf(r, 5000)), 200+r.IntN(2000)
	case x < 93:
		method, path, size = "POST", "/api/v1/checkout", 300+r.IntN(800)
	case x < 97:
		path, size = fmt.Sprintf("/search?q=%s", pick(r, []string{"shoes", "red+dress", "laptop+bag", "gift+card", "sale"})), 5000+r.IntN(20000)
	default:
		path, size = "/healthz", 2
	}
	switch x := r.IntN(1000); {
	case x < 40:
		status, size = 304, 0
	case x < 75:
		status, size = 404, 153
	case x < 80:
		status = 499
	case x < 86:
		status, size = pick(r, []int{500, 502, 503, 504}), 157
	case x < 90:
		status, size = 301, 169
	}
	ua, referer := pick(r, userAgents), "-"
	if path == "/healthz" {
		ua = "kube-probe/1.28"
	} else if r.IntN(3) > 0 {
		referer = "https://shop.example.com" + pick(r, []string{"/", "/cart", "/products", "/search", "/checkout"})
	}
	rt := r.ExpFloat64() * 0.04
	return fmt.Sprintf(`%s - - [%s] "%s %s HTTP/%s" %d %d "%s" "%s" rt=%.3f urt="%.3f"`,
		clientIP(r), t.Format("02/Jan/2006:15:04:05 -0700"), method, path, pick(r, []string{"1.1", "1.1", "2.0"}),
		status, size, referer, ua, rt, rt*0.9)
}

func checkoutLine(r *rand.Rand, t time.Time) string {
	head := fmt.Sprintf(`{"ts":"%s","service":"checkout","version":"1.14.2","pod":"checkout-7d9f8b6c5-%s"`,
		t.Format(time.RFC3339Nano), pick(r, []string{"x2k4p", "m8q7n", "c4v9z"}))
	trace := fmt.Sprintf(`"trace_id":"%s","span_id":"%s"`, hexID(r, 32), hexID(r, 16))
	user := 10000 + zipf(r, 90000)
	switch x := r.IntN(100); {
	case x < 35:
		return head + fmt.Sprintf(`,"level":"info","logger":"checkout.cart","msg":"cart updated","user_id":%d,"cart_id":"c_%s","items":%d,%s}`,
			user, hexID(r, 12), 1+r.IntN(8), trace)
	case x < 60:
		return head + fmt.Sprintf(`,"level":"info","logger":"checkout.orders","msg":"order placed","order_id":"ord_%s","user_id":%d,"items":%d,"total_cents":%d,"currency":"%s","payment_method":"%s","duration_ms":%d,%s}`,
			hexID(r, 14), user, 1+r.IntN(6), 500+r.IntN(40000), pick(r, []string{"EUR", "EUR", "USD", "GBP"}),
			pick(r, []string{"card", "card", "paypal", "sepa"}), 20+r.IntN(400), trace)
	case x < 80:
		return head + fmt.Sprintf(`,"level":"info","logger":"checkout.inventory","msg":"inventory reserved","order_id":"ord_%s","skus":["SKU-%05d","SKU-%05d"],"warehouse":"%s",%s}`,
			hexID(r, 14), zipf(r, 50000), zipf(r, 50000), pick(r, []string{"ams-1", "fra-2"}), trace)
	case x < 93:
		return head + fmt.Sprintf(`,"level":"debug","logger":"checkout.http","msg":"request","method":"%s","path":"/checkout/%s","status":200,"duration_ms":%.2f,%s}`,
			pick(r, []string{"GET", "POST"}), pick(r, []string{"summary", "confirm", "address", "shipping"}), r.ExpFloat64()*30, trace)
	case x < 97:
		return head + fmt.Sprintf(`,"level":"warn","logger":"checkout.payments","msg":"payment provider slow","provider":"%s","latency_ms":%d,"attempt":%d,%s}`,
			pick(r, []string{"stripe", "adyen"}), 1500+r.IntN(6000), 1+r.IntN(3), trace)
	default:
		return head + fmt.Sprintf(`,"level":"error","logger":"checkout.payments","msg":"payment declined","order_id":"ord_%s","user_id":%d,"reason":"%s","error":"provider returned 402: %s",%s}`,
			hexID(r, 14), user, pick(r, []string{"insufficient_funds", "card_expired", "do_not_honor"}),
			pick(r, []string{"Your card has insufficient funds.", "Your card has expired.", "Your card was declined."}), trace)
	}
}

func apiLine(r *rand.Rand, t time.Time) string {
	head := "ts=" + t.Format(time.RFC3339Nano)
	switch x := r.IntN(100); {
	case x < 85:
		route, path := "/api/v1/products/{id}", ""
		id := 1000 + zipf(r, 5000)
		switch r.IntN(4) {
		case 0:
			route, path = "/api/v1/users/{id}/orders", fmt.Sprintf("/api/v1/users/%d/orders", 10000+zipf(r, 90000))
		case 1:
			route, path = "/api/v1/cart/items/{id}", fmt.Sprintf("/api/v1/cart/items/%d", id)
		default:
			path = fmt.Sprintf("/api/v1/products/%d", id)
		}
		return fmt.Sprintf(`%s level=info caller=server/http.go:212 msg="request completed" method=%s route=%s path=%s status=%d duration=%.3fms bytes=%d remote=10.1.%d.%d:%d request_id=%s`,
			head, pick(r, []string{"GET", "GET", "GET", "POST"}), route, path, pick(r, []int{200, 200, 200, 200, 201, 404}),
			r.ExpFloat64()*25, 200+r.IntN(9000), r.IntN(16), 1+r.IntN(250), 30000+r.IntN(30000), hexID(r, 26))
	case x < 95:
		return fmt.Sprintf(`%s level=warn caller=store/postgres.go:88 msg="slow query" query="SELECT id, name, price_cents, stock FROM products WHERE category_id = $1 ORDER BY popularity DESC LIMIT 20" rows=%d duration=%.1fms`,
			head, r.IntN(21), 200+r.ExpFloat64()*300)
	default:
		return fmt.Sprintf(`%s level=error caller=client/inventory.go:131 msg="upstream request failed" upstream=http://inventory.shop.svc:8080 err="Get \"http://inventory.shop.svc:8080/v1/stock/SKU-%05d\": context deadline exceeded (Client.Timeout exceeded while awaiting headers)" attempt=%d`,
			head, zipf(r, 50000), 1+r.IntN(3))
	}
}

var javaFrames = []string{
	"com.example.billing.invoice.InvoiceService.generate(InvoiceService.java:214)",
	"com.example.billing.invoice.InvoiceService.lambda$generateAll$3(InvoiceService.java:167)",
	"com.example.billing.tax.TaxCalculator.compute(TaxCalculator.java:92)",
	"com.example.billing.customer.CustomerRepository.findById(CustomerRepository.java:41)",
	"org.springframework.transaction.interceptor.TransactionInterceptor.invoke(TransactionInterceptor.java:119)",
	"org.springframework.aop.framework.ReflectiveMethodInvocation.proceed(ReflectiveMethodInvocation.java:184)",
	"org.springframework.aop.framework.CglibAopProxy$DynamicAdvisedInterceptor.intercept(CglibAopProxy.java:765)",
	"org.springframework.web.servlet.FrameworkServlet.processRequest(FrameworkServlet.java:1011)",
	"org.springframework.web.servlet.DispatcherServlet.doDispatch(DispatcherServlet.java:1089)",
	"org.springframework.web.servlet.DispatcherServlet.doService(DispatcherServlet.java:979)",
	"jakarta.servlet.http.HttpServlet.service(HttpServlet.java:590)",
	"org.apache.catalina.core.ApplicationFilterChain.internalDoFilter(ApplicationFilterChain.java:205)",
	"org.apache.catalina.core.ApplicationFilterChain.doFilter(ApplicationFilterChain.java:149)",
	"org.apache.catalina.core.StandardWrapperValve.invoke(StandardWrapperValve.java:167)",
	"org.apache.catalina.connector.CoyoteAdapter.service(CoyoteAdapter.java:341)",
	"org.apache.coyote.http11.Http11Processor.service(Http11Processor.java:391)",
	"org.apache.tomcat.util.net.NioEndpoint$SocketProcessor.doRun(NioEndpoint.java:1744)",
	"java.base/java.util.concurrent.ThreadPoolExecutor.runWorker(ThreadPoolExecutor.java:1136)",
	"java.base/java.lang.Thread.run(Thread.java:833)",
	"org.postgresql.core.v3.QueryExecutorImpl.receiveErrorResponse(QueryExecutorImpl.java:2713)",
	"org.postgresql.jdbc.PgPreparedStatement.executeQuery(PgPreparedStatement.java:134)",
	"com.zaxxer.hikari.pool.HikariProxyPreparedStatement.executeQuery(HikariProxyPreparedStatement.java)",
	"org.hibernate.sql.results.jdbc.internal.DeferredResultSetAccess.executeQuery(DeferredResultSetAccess.java:246)",
}

func billingLine(r *rand.Rand, t time.Time) string {
	head := fmt.Sprintf("%s %%5s 1 --- [billing] [nio-8080-exec-%d] ", t.Format("2006-01-02T15:04:05.000Z07:00"), 1+r.IntN(10))
	if r.IntN(10) > 0 {
		return fmt.Sprintf(head, "INFO") + fmt.Sprintf("c.e.billing.invoice.InvoiceService       : Generated invoice INV-2023-%06d for customer %d (%d lines, %d.%02d EUR)",
			r.IntN(1000000), 10000+zipf(r, 90000), 1+r.IntN(9), r.IntN(900), r.IntN(100))
	}
	var b strings.Builder
	b.WriteString(fmt.Sprintf(head, "ERROR"))
	b.WriteString(fmt.Sprintf("o.a.c.c.C.[.[.[/].[dispatcherServlet]    : Servlet.service() for servlet [dispatcherServlet] threw exception\n"+
		"org.springframework.dao.DataIntegrityViolationException: could not execute statement; SQL [n/a]; constraint [invoice_number_key]\n"+
		"Caused by: org.postgresql.util.PSQLException: ERROR: duplicate key value violates unique constraint \"invoice_number_key\"\n"+
		"  Detail: Key (number)=(INV-2023-%06d) already exists.", r.IntN(1000000)))
	start := r.IntN(4)
	for i := start; i < len(javaFrames); i++ {
		if r.IntN(5) > 0 {
			b.WriteString("\n\tat " + javaFrames[i])
		}
	}
	b.WriteString(fmt.Sprintf("\n\t... %d common frames omitted", 20+r.IntN(30)))
	return b.String()
}

func sshdLine(r *rand.Rand, t time.Time) string {
	pid := 100000 + r.IntN(900000)
	switch r.IntN(4) {
	case 0:
		return fmt.Sprintf("sshd[%d]: Accepted publickey for deploy from 10.0.0.%d port %d ssh2: ED25519 SHA256:%s", pid, 2+r.IntN(5), 40000+r.IntN(20000), hexID(r, 43))
	case 1:
		return fmt.Sprintf("sshd[%d]: pam_unix(sshd:session): session opened for user deploy(uid=1001) by (uid=0)", pid)
	case 2:
		return fmt.Sprintf("sshd[%d]: Invalid user %s from %s port %d", pid, pick(r, []string{"admin", "test", "oracle", "ubuntu", "postgres"}), clientIP(r), 30000+r.IntN(30000))
	}
	return fmt.Sprintf("sshd[%d]: Connection closed by %s port %d [preauth]", pid, clientIP(r), 30000+r.IntN(30000))
}

func cronLine(r *rand.Rand, t time.Time) string {
	pid := 100000 + r.IntN(900000)
	if r.IntN(2) == 0 {
		return fmt.Sprintf("CRON[%d]: (root) CMD (   cd / && run-parts --report /etc/cron.hourly)", pid)
	}
	return fmt.Sprintf("CRON[%d]: pam_unix(cron:session): session opened for user root(uid=0) by (uid=0)", pid)
}

func kubeletLine(r *rand.Rand, t time.Time) string {
	head := fmt.Sprintf("%s    1234 ", t.Format("I0102 15:04:05.000000"))
	pod := pick(r, []string{"shop/checkout-7d9f8b6c5-x2k4p", "shop/api-5b8d7c9f4-q2w3e", "shop/web-6f7c9d8b4-2xkqp", "monitoring/node-exporter-7xk2p"})
	switch r.IntN(5) {
	case 0:
		return "E" + head[1:] + fmt.Sprintf(`pod_workers.go:1300] "Error syncing pod, skipping" err="failed to \"StartContainer\" for \"billing\" with CrashLoopBackOff: \"back-off 5m0s restarting failed container=billing pod=billing-%s_shop\"" pod="shop/billing-%s"`, hexID(r, 5), hexID(r, 5))
	case 1:
		return head + fmt.Sprintf(`prober.go:107] "Probe failed" probeType="Readiness" pod="%s" podUID="%s-%s" containerName="app" probeResult="failure" output="Get \"http://10.1.%d.%d:8080/healthz\": dial tcp: connect: connection refused"`, pod, hexID(r, 8), hexID(r, 4), r.IntN(16), r.IntN(250))
	}
	return head + fmt.Sprintf(`kubelet.go:2421] "SyncLoop (PLEG): event for pod" pod="%s" event={"ID":"%s-%s-%s","Type":"ContainerStarted","Data":"%s"}`, pod, hexID(r, 8), hexID(r, 4), hexID(r, 4), hexID(r, 64))
}
