// 自测脚本：浏览器中打开 test.html，或在命令行执行 node test.js 查看结果。
// 本脚本只用于自测，评分时评卷人会使用同样及更多的用例。
(function () {
  // 浏览器中直接按名称读取 solution.js 定义的全局函数和类（用 class 声明的 Cart 不会成为 window 的属性）
  var api = (typeof module !== 'undefined' && module.exports)
    ? require('./solution.js')
    : {
      formatPrice: typeof formatPrice !== 'undefined' ? formatPrice : undefined,
      isValidPhone: typeof isValidPhone !== 'undefined' ? isValidPhone : undefined,
      Cart: typeof Cart !== 'undefined' ? Cart : undefined
    };
  var passed = 0;
  var failed = 0;
  var lines = [];

  function check(label, actual, expected) {
    var ok = JSON.stringify(actual) === JSON.stringify(expected);
    if (ok) { passed++; } else { failed++; }
    lines.push((ok ? '通过  ' : '失败  ') + label + ' → 实际 ' + JSON.stringify(actual) +
      (ok ? '' : '，期望 ' + JSON.stringify(expected)));
  }
  function run(label, fn, expected) {
    var actual;
    try { actual = fn(); } catch (e) { actual = '抛出异常：' + e.message; }
    check(label, actual, expected);
  }

  run('formatPrice(1234.5)', function () { return api.formatPrice(1234.5); }, '¥1,234.50');
  run('formatPrice(0)', function () { return api.formatPrice(0); }, '¥0.00');
  run('formatPrice(1000000)', function () { return api.formatPrice(1000000); }, '¥1,000,000.00');
  run('formatPrice(99.999)', function () { return api.formatPrice(99.999); }, '¥100.00');
  run('formatPrice("12")', function () { return api.formatPrice('12'); }, '--');
  run('formatPrice(-3)', function () { return api.formatPrice(-3); }, '--');
  run('formatPrice(NaN)', function () { return api.formatPrice(NaN); }, '--');

  run('isValidPhone("13812345678")', function () { return api.isValidPhone('13812345678'); }, true);
  run('isValidPhone(" 15900001111 ")', function () { return api.isValidPhone(' 15900001111 '); }, true);
  run('isValidPhone("12812345678")', function () { return api.isValidPhone('12812345678'); }, false);
  run('isValidPhone("1381234567")', function () { return api.isValidPhone('1381234567'); }, false);
  run('isValidPhone("138123456789")', function () { return api.isValidPhone('138123456789'); }, false);
  run('isValidPhone("138-1234-5678")', function () { return api.isValidPhone('138-1234-5678'); }, false);
  run('isValidPhone(13812345678)', function () { return api.isValidPhone(13812345678); }, false);

  run('new Cart().total()', function () { return new api.Cart().total(); }, 0);
  run('new Cart().list()', function () { return new api.Cart().list(); }, []);
  run('购物车示例 total()', function () {
    var cart = new api.Cart();
    cart.add('笔记本', 19.9, 2).add('钢笔', 5.5, 2).add('笔记本', 19.9);
    return cart.total();
  }, 70.7);
  run('购物车示例 list()', function () {
    var cart = new api.Cart();
    cart.add('笔记本', 19.9, 2).add('钢笔', 5.5, 2).add('笔记本', 19.9);
    return cart.list();
  }, ['笔记本 ×3 ¥59.70', '钢笔 ×2 ¥11.00']);
  run('两个购物车互不影响', function () {
    var a = new api.Cart();
    var b = new api.Cart();
    a.add('橡皮', 1.5, 4);
    return [a.total(), b.total()];
  }, [6, 0]);
  run('add 等方法定义在原型上', function () {
    var cart = new api.Cart();
    return ['add', 'total', 'list'].map(function (m) {
      return typeof api.Cart.prototype[m] === 'function' && !Object.prototype.hasOwnProperty.call(cart, m);
    });
  }, [true, true, true]);

  lines.push('共 ' + (passed + failed) + ' 项，通过 ' + passed + ' 项，失败 ' + failed + ' 项');
  if (typeof document !== 'undefined') {
    document.getElementById('result').textContent = lines.join('\n');
  } else {
    console.log(lines.join('\n'));
  }
})();
